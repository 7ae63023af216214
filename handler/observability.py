"""Powertools Logger, Metrics and Tracer, built once, and the one place inference is timed and traced.

The HTTP routes and the batch path both call ``observed_infer`` so latency, batch size and the X-Ray
subsegment mean the same thing whichever way a request arrived.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence

import numpy as np
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from handler.model import OnnxModel
from handler.settings import Settings, SettingsError, get_settings


def _settings_or_log() -> Settings:
    """The settings; a bad one is logged as one structured INIT line (the usual logger needs them) and re-raised."""
    try:
        return get_settings()
    except SettingsError as exc:
        service = os.environ.get("POWERTOOLS_SERVICE_NAME") or "onnx-lambda"
        Logger(service=service).error(f"INIT failed: {exc}")
        raise


_settings = _settings_or_log()
logger = Logger(service=_settings.service_name, level=_settings.log_level)
metrics = Metrics(namespace=_settings.metrics_namespace, service=_settings.service_name)
tracer = Tracer(service=_settings.service_name)


def observed_infer(
    model: OnnxModel, feeds: Mapping[str, np.ndarray], outputs: Sequence[str] | None = None
) -> dict[str, np.ndarray]:
    """Run ``model.infer`` inside an X-Ray subsegment and record latency and batch size as metrics."""
    batch = next((int(array.shape[0]) for array in feeds.values() if array.ndim), 1)
    with tracer.provider.in_subsegment("## inference") as subsegment:
        subsegment.put_annotation("model", model.info.name)
        subsegment.put_metadata("batch_size", batch)
        started = time.perf_counter()
        results = model.infer(feeds, outputs)
        elapsed_ms = (time.perf_counter() - started) * 1000
    metrics.add_metric(name="InferenceLatency", unit=MetricUnit.Milliseconds, value=elapsed_ms)
    metrics.add_metric(name="BatchSize", unit=MetricUnit.Count, value=batch)
    return results
