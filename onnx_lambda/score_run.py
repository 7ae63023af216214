"""One ``onnx-lambda score`` run: plan the inputs, then score them one by one with the progress shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TextIO

from handler.batch.scoring import Deadline
from handler.dataplane import DataPlane
from handler.settings import Settings
from onnx_lambda.progress import Progress
from onnx_lambda.score_plan import PlacedScorer, check_apart, out_location, plan, source_location
from onnx_lambda.stores import WatchedStore

NO_TIME_LIMIT_MS = 2**31 - 1  # there is no Lambda timeout here: the scorer's deadline never passes


@dataclass(frozen=True)
class ScoreRun:
    """Each input's summary (as the function writes it), its name relative to SOURCE, and what was passed over."""

    summaries: list[dict[str, Any]]
    names: list[str]
    passed_over: int


def score_all(plane: DataPlane, settings: Settings, source: str, out: str, *, force: bool, stream: TextIO) -> ScoreRun:
    """Score every input SOURCE names into OUT; raises InputError (and whatever S3 raises)."""
    store = WatchedStore(seen=lambda _: None, force=force)
    root, objects, passed_over = plan(store, source_location(source))
    target = out_location(out)
    check_apart(root, target)
    progress = Progress(stream, sum(head.size for _, head in objects), len(objects))
    store.seen = progress.advance
    deadline = Deadline(lambda: NO_TIME_LIMIT_MS, 0.0)
    scorer = PlacedScorer(plane, settings, store, deadline, source=root, out=target)
    names = [ref.key[len(root.prefix) :] for ref, _ in objects]
    summaries = []
    try:
        for name, (ref, head) in zip(names, objects, strict=True):
            progress.start_file(name, head.size)
            summaries.append(scorer.score(ref, head))
    finally:
        progress.close()
    return ScoreRun(summaries, names, passed_over)
