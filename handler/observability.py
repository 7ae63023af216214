"""Powertools Logger, Metrics and Tracer, built once (handler.dataplane times and traces every inference with them).

The Tracer is Powertools' only when TRACE_INFERENCE is on: aws-xray-sdk creates a botocore client as it is
imported, which costs more of a cold start than everything else here together, so without it a no-op stand-in
keeps the same calls.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from aws_lambda_powertools import Logger, Metrics

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
