"""The one Lambda entry point: ``handler.entrypoint.lambda_handler``, for every trigger.

Everything slow happens here at import, which is Lambda's INIT phase (paid by provisioned concurrency
before traffic): settings are validated, the onnxruntime session is created and warmed up, and the
FastAPI app and its Mangum adapter are built once. A bad setting or model file raises here, so INIT
fails with one clear message instead of a function that answers half the time.
"""

from __future__ import annotations

import gc

# No collection during INIT: nothing it builds is garbage, and the collector walked the growing heap again and
# again while the modules imported (spawn -> first response 458 vs 525 ms, medians of 15 interleaved fresh
# processes). Enabled again at the end of INIT, after freezing what it built, whether INIT succeeded or not.
gc.disable()

import warnings
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from handler.batch.sources import (
    DistributedMapItem,
    EventBridgeObjectCreated,
    S3NotificationEvent,
    ScheduleEvent,
    SqsEvent,
)
from handler.contract import LambdaHandler
from handler.dispatch import HTTP_SOURCES, EventSource, identify
from handler.observability import logger, metrics, tracer
from handler.runtime import build_runtime
from handler.settings import get_settings

# Health checks and metadata calls legitimately publish no metric; Powertools warns about each.
warnings.filterwarnings("ignore", message="No application metrics to publish")

try:
    RUNTIME = build_runtime(get_settings())
finally:
    # Everything INIT built (modules, the app, the settings: ~65,000 objects) lives as long as the instance; frozen,
    # the collector stops walking it on every full collection. Without it /predict with 256 digits had p99 35-37 ms
    # against a p50 of 3.3-3.6 ms (10x); with it 5.0-6.2 ms (1.6x), the p50 the same (make bench's p99/p50 row).
    gc.freeze()
    gc.enable()


def _batch(trigger: str) -> LambdaHandler:
    """RUNTIME.batch's handler named ``trigger``, looked up per event, so the batch code (and its
    imports) is built only where batch events arrive."""

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        handler: LambdaHandler = getattr(RUNTIME.batch, trigger)
        return handler(event, context)

    return handle


# Which handler serves each kind of event, in the order they are tried.
HANDLERS: dict[type[EventSource], LambdaHandler] = {
    **dict.fromkeys(HTTP_SOURCES, RUNTIME.http),
    S3NotificationEvent: _batch("s3_notification"),
    SqsEvent: _batch("sqs"),
    EventBridgeObjectCreated: _batch("eventbridge_object_created"),
    ScheduleEvent: _batch("schedule"),
    DistributedMapItem: _batch("distributed_map_item"),
}
SOURCES = tuple(HANDLERS)


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Identify the event's kind and hand it to its handler; raises UnsupportedEventError for others."""
    source = identify(event, SOURCES)
    logger.set_correlation_id(source.correlation_id(event))
    return HANDLERS[source](event, context)
