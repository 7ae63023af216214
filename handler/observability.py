"""Powertools Logger, Metrics and Tracer, built once, and the one place inference is timed and traced.

The HTTP routes and the batch path both call ``observed_infer`` so latency, batch size and the X-Ray
subsegment mean the same thing whichever way a request arrived. The Tracer is Powertools' only when
TRACE_INFERENCE is on: aws-xray-sdk creates a botocore client as it is imported, which costs more of a
cold start than everything else here together, so without it a no-op stand-in keeps the same calls.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import numpy as np
from aws_lambda_powertools import Logger, Metrics
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


class TracerLike(Protocol):
    """The two things this package asks of a tracer."""

    provider: Any

    def capture_lambda_handler(self, *, capture_response: bool) -> Callable[[Any], Any]: ...


class _NoSubsegment:
    def put_annotation(self, key: str, value: Any) -> None:
        """Dropped: tracing is off."""

    def put_metadata(self, key: str, value: Any) -> None:
        """Dropped: tracing is off."""


class _NoProvider:
    @contextmanager
    def in_subsegment(self, name: str) -> Iterator[_NoSubsegment]:
        yield _NoSubsegment()


class NoTracer:
    """Tracing off: the handler runs undecorated and subsegments cost one context manager."""

    provider = _NoProvider()

    def capture_lambda_handler(self, *, capture_response: bool) -> Callable[[Any], Any]:
        return lambda handler: handler


def _tracer(settings: Settings) -> TracerLike:
    if not settings.trace_inference:
        return NoTracer()
    from aws_lambda_powertools import Tracer  # noqa: PLC0415 - only when asked for: see the module docstring

    powertools_tracer: TracerLike = Tracer(service=settings.service_name, auto_patch=False)
    return powertools_tracer


_settings = _settings_or_log()
logger = Logger(service=_settings.service_name, level=_settings.log_level)
metrics = Metrics(namespace=_settings.metrics_namespace, service=_settings.service_name)
tracer = _tracer(_settings)


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
