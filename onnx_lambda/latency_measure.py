"""The measurements behind ``onnx-lambda latency``: INIT through the handler's loader, warm calls through the
entry point. Imports the handler, so it is imported only after the model and settings are configured."""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from handler.contract import LambdaHandler
from handler.http_events import http_api_event
from handler.lambda_instance import LocalContext
from handler.model import OnnxModel
from handler.repository import load_repository
from handler.settings import settings_from_env
from handler.warmup import warmup_feeds

UNTIMED_CALLS = 10


def measure_init(runs: int) -> dict[str, Any]:
    """Median session and warm-up milliseconds of ``runs`` loads of the configured model, or of every model of
    a folder together (what INIT pays for it), loaded as the function loads them."""
    settings = settings_from_env(os.environ)
    loads = [[entry.report for entry in load_repository(settings, "local")] for _ in range(runs)]
    session = statistics.median(sum(report.session_ms for report in reports) for reports in loads)
    warmup = statistics.median(sum(report.warmup_ms for report in reports) for reports in loads)
    totals = statistics.median(sum(r.session_ms + r.warmup_ms for r in reports) for reports in loads)
    return {"runs": runs, "session_ms": session, "warmup_ms": warmup, "total_ms": totals}


def feeds_for(model: OnnxModel, batch: int) -> dict[str, np.ndarray]:
    """Inputs for ``batch`` instances in the model's own signature: random floats, zeros elsewhere (seeded)."""
    rng = np.random.default_rng(0)
    feeds = warmup_feeds(model.info.inputs, batch)
    for name, array in feeds.items():
        if np.issubdtype(array.dtype, np.floating):
            feeds[name] = rng.random(array.shape).astype(array.dtype)
    return feeds


def infer_event(model: OnnxModel, feeds: dict[str, np.ndarray]) -> dict[str, Any]:
    """An HTTP API event carrying an Open Inference Protocol JSON request for ``feeds``."""
    datatypes = {spec.name: spec.datatype for spec in model.info.inputs}
    inputs = [
        {"name": name, "shape": list(array.shape), "datatype": datatypes[name], "data": array.ravel().tolist()}
        for name, array in feeds.items()
    ]
    body = json.dumps({"inputs": inputs}).encode("utf-8")
    headers = {"content-type": "application/json", "content-length": str(len(body))}
    path = f"/v2/models/{model.info.name}/infer"
    return http_api_event("POST", target=path, headers=headers, body=body, stage="$default", source_ip="127.0.0.1")


def timed_ms(call: Callable[[], Any], repeats: int) -> list[float]:
    """Milliseconds per call, after a few untimed ones."""
    for _ in range(min(UNTIMED_CALLS, repeats)):
        call()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - started) / 1e6)
    return samples


def p95(samples: list[float]) -> float:
    """The 95th percentile (inclusive method: within the samples' range)."""
    return statistics.quantiles(samples, n=20, method="inclusive")[18] if len(samples) > 1 else samples[0]


def measure_warm(handler: LambdaHandler, batch: int, repeats: int) -> dict[str, Any]:
    """p50/p95 of the entry point and p50 of raw session.run for one batch size, or the function's refusal."""
    from handler.entrypoint import RUNTIME  # noqa: PLC0415 - already imported by the caller: INIT is done

    model = RUNTIME.plane.model
    assert model is not None  # INIT succeeded, or the entry point's import raised
    feeds = feeds_for(model, batch)
    event, context = infer_event(model, feeds), LocalContext()
    first = handler(event, context)
    if first.get("statusCode") != 200:
        error = json.loads(first.get("body") or "{}").get("error", "")
        return {"batch": batch, "error": f"HTTP {first.get('statusCode')}: {error}"}
    through = timed_ms(lambda: handler(event, context), repeats)
    raw = timed_ms(lambda: model.session.run(None, feeds), repeats)
    return {
        "batch": batch,
        "p50_ms": statistics.median(through),
        "p95_ms": p95(through),
        "raw_p50_ms": statistics.median(raw),
        "repeats": repeats,
    }
