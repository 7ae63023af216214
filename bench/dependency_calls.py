"""The per-call measurements of bench/dependency_costs.py (``calls``: one correlation-id lookup, one classification)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from bench.dependency_costs import CHILD, REPO, _env, _median
from bench.dependency_requests import _event

CORRELATED = [
    "http-api-v2.predict",
    "function-url.predict",
    "rest-v1-stage.predict",
    "alb.predict",
    "s3.put",
    "sqs.s3-put",
    "eventbridge.object-created",
    "schedule.scheduled-event",
]


def child_calls() -> None:
    import timeit  # noqa: PLC0415

    from mangum import Mangum  # noqa: PLC0415

    from handler.batch.sources import BATCH_SOURCES  # noqa: PLC0415
    from handler.dispatch import HTTP_SOURCES, identify  # noqa: PLC0415
    from handler.http_events import StagedHttpApi, StagedRestApi  # noqa: PLC0415

    def per_call(call: Any, number: int = 20_000) -> float:
        return min(timeit.repeat(call, number=number, repeat=7)) / number * 1e6

    sources = (*HTTP_SOURCES, *BATCH_SOURCES)
    mangum = Mangum(None, lifespan="off", custom_handlers=[StagedRestApi, StagedHttpApi])  # type: ignore[arg-type]
    found: dict[str, Any] = {}
    for name in CORRELATED:
        event = _event(name)
        source = identify(event, sources)
        found[name] = {
            "id": source.correlation_id(event),
            "correlation_us": per_call(lambda source=source, event=event: source.correlation_id(event)),
        }
        path = getattr(source, "correlation_path", None)
        if path:  # the same path through Powertools' query(), as its Logger evaluates a correlation_id_path
            from aws_lambda_powertools.utilities.jmespath_utils import query  # noqa: PLC0415

            found[name]["query_us"] = per_call(lambda event=event, path=path: query(event, path))
    event = _event("http-api-v2.predict")
    found["identify_us"] = per_call(lambda: identify(event, sources))
    found["mangum_infer_us"] = per_call(lambda: mangum.infer(event, None))
    print("RESULT " + json.dumps(found))


def calls(before: Path | None, runs: int = 5) -> None:
    """Each tree's figures, the trees alternating over ``runs`` fresh processes each: the median of each figure."""
    trees = {"this tree": REPO} | ({"before": before} if before else {})
    runs_of: dict[str, list[dict[str, Any]]] = {label: [] for label in trees}
    for run in range(runs):
        for label in trees if run % 2 == 0 else reversed(trees):
            result = subprocess.run(
                [*CHILD, "child-calls"],
                cwd=trees[label],
                env=_env(trees[label]),
                capture_output=True,
                text=True,
                check=True,
            )
            line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
            runs_of[label].append(json.loads(line.removeprefix("RESULT ")))
    for label, found in runs_of.items():

        def median(*keys: str, found: list[dict[str, Any]] = found) -> float:
            values = []
            for figures in found:
                value: Any = figures
                for key in keys:
                    value = value[key]
                values.append(float(value))
            return _median(values)

        print(f"{label}: identify {median('identify_us'):.2f} µs, Mangum infer {median('mangum_infer_us'):.2f} µs")
        for name in CORRELATED:
            query = (
                f"  (Powertools' query(): {median(name, 'query_us'):5.2f} µs)" if "query_us" in found[0][name] else ""
            )
            print(f"  {name:28s} {median(name, 'correlation_us'):5.2f} µs  id {found[0][name]['id']!r}{query}")
