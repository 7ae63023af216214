"""The one Lambda entry point: ``handler.entrypoint.lambda_handler``, for every trigger.

Everything slow happens here at import, which is Lambda's INIT phase (paid by provisioned concurrency
before traffic): settings are validated, the onnxruntime session is created and warmed up, and the
FastAPI app and its Mangum adapter are built once. A bad setting or model file raises here, so INIT
fails with one clear message instead of a function that answers half the time.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum

from handler.api.app import create_app
from handler.api.deps import ModelState
from handler.dispatch import HTTP_SOURCES, EventSource, identify
from handler.errors import ModelLoadError
from handler.http_events import StagedHttpApi, StagedRestApi
from handler.model import load_model
from handler.observability import logger, metrics, tracer
from handler.settings import get_settings

# Health checks and metadata calls legitimately publish no metric; Powertools warns about each.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def _initialization_type() -> str:
    """on-demand or provisioned-concurrency in Lambda (its own variable), local elsewhere."""
    return os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") or (
        "on-demand" if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") else "local"
    )


def _init() -> tuple[ModelState, Callable[[dict[str, Any], Any], dict[str, Any]]]:
    settings = get_settings()
    try:
        model, report = load_model(settings, _initialization_type())
    except ModelLoadError as exc:
        logger.error(f"INIT failed: {exc}")
        raise
    logger.info(
        "model ready",
        extra={
            "model": model.info.name,
            "version": model.info.version,
            "threads": report.threads,
            "session_ms": report.session_ms,
            "warmup_ms": report.warmup_ms,
            "initialization_type": report.initialization_type,
        },
    )
    state = ModelState(model=model, report=report)
    adapter = Mangum(
        create_app(state, settings.max_body_bytes), lifespan="off", custom_handlers=[StagedRestApi, StagedHttpApi]
    )
    return state, adapter


MODEL_STATE, HTTP_ADAPTER = _init()

# Which handler serves each kind of event; the batch triggers join this table.
HANDLERS: dict[type[EventSource], Callable[[dict[str, Any], Any], dict[str, Any]]] = dict.fromkeys(
    HTTP_SOURCES, HTTP_ADAPTER
)
SOURCES = tuple(HANDLERS)


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Identify the event's kind and hand it to its handler; raises UnsupportedEventError for others."""
    source = identify(event, SOURCES)
    logger.set_correlation_id(source.correlation_id(event))
    return HANDLERS[source](event, context)
