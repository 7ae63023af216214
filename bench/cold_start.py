"""Cold start: fresh process -> first response, for every contestant, interleaved.

Each round starts one process per contestant in a shuffled order, so drift on a noisy machine hits
all alike; the figure is the median over rounds of the wall time from spawn to the line the child
prints right after its first response (Python's own start-up included for all, the interpreter's
teardown for none), with the peak RSS at that moment. The digits contestants answer
events/http-api-v2.predict.json (the floor runs the session once); the ResNet-18-sized pair is bare
onnxruntime loading and running the 46.7 MB model once against the entry point answering one
[1, 3, 224, 224] image through the binary tensor extension. ``-X importtime`` of the project's entry
point says where the project's time goes.
"""

from __future__ import annotations

import json
import random
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.measure import median, run_first
from bench.resnet_model import INPUT_SHAPE, resnet_model
from bench.scenarios import binary_event

DIGITS = ("floor", "project", "naive", "peer")
RESNET = ("resnet-floor", "resnet-project")
CONTESTANTS = DIGITS + RESNET


@dataclass(frozen=True)
class ColdStart:
    contestant: str
    median_ms: float
    samples_ms: list[float]
    rss_mib: float


@dataclass(frozen=True)
class Launch:
    """How one contestant's process is started: the child's contestant, its arguments and environment."""

    child: str
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)


def launches(folder: Path) -> dict[str, Launch]:
    model = str(resnet_model())
    event = folder / "resnet-binary.json"
    event.write_text(json.dumps(binary_event(np.zeros(INPUT_SHAPE, np.float32), "resnet18")))
    resnet = {"MODEL_PATH": model}
    return {
        "floor": Launch("floor"),
        "project": Launch("project"),
        "naive": Launch("naive"),
        "peer": Launch("peer"),
        "resnet-floor": Launch("floor", env=resnet),
        "resnet-project": Launch("project", (str(event),), resnet),
    }


def measure(rounds: int, seed: int = 0) -> dict[str, ColdStart]:
    order = list(CONTESTANTS)
    shuffle = random.Random(seed)
    walls: dict[str, list[float]] = {name: [] for name in CONTESTANTS}
    rss: dict[str, list[float]] = {name: [] for name in CONTESTANTS}
    with tempfile.TemporaryDirectory() as tmp:
        plan = launches(Path(tmp))
        for _ in range(rounds):
            shuffle.shuffle(order)
            for name in order:
                launch = plan[name]
                answer = run_first(launch.child, *launch.args, env={"PEER_THREADS": "1"} | launch.env)
                if not answer["first_response"]:
                    raise RuntimeError(f"{name}: the first response was not a 200")
                walls[name].append(answer["wall_s"] * 1000)
                rss[name].append(answer["rss_mib"])
    return {name: ColdStart(name, median(walls[name]), walls[name], median(rss[name])) for name in CONTESTANTS}


IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def import_breakdown(top: int = 12) -> list[tuple[str, float]]:
    """(package, ms) of the heaviest top-level packages the entry point's import pulls in."""
    stderr = run_first("project", python_flags=("-X", "importtime"))["stderr"]
    totals: dict[str, float] = {}
    for line in stderr.splitlines():
        found = IMPORT_LINE.match(line)
        if found:
            package = found[4].split(".")[0]
            totals[package] = totals.get(package, 0.0) + int(found[1]) / 1000  # self times add up exactly
    return sorted(totals.items(), key=lambda item: -item[1])[:top]
