"""The batch kinds of event, in the dispatcher's style: each class says whether it claims an event.

- S3 event notification (``Records`` from ``aws:s3``), delivered straight to the function;
- SQS messages (``Records`` from ``aws:sqs``): S3 notifications wrapped by the S3 -> SQS route, or
  inference jobs;
- EventBridge "Object Created" from S3;
- a schedule: EventBridge's "Scheduled Event", or a rule / EventBridge Scheduler target whose input is
  ``{"score_prefix": {"bucket": ..., "prefix": ...}}`` (both keys optional);
- one Step Functions Distributed Map item over an S3 prefix: the ListObjectsV2 item (``Key``,
  ``Etag``, ``Size``, ... plus ``Bucket`` when the map's ItemSelector adds it), or an ItemBatcher
  batch ``{"Items": [...], "BatchInput": {"Bucket": ...}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from aws_lambda_powertools.logging import correlation_paths

from handler.dispatch import EventSource

# Where the first record's id is, for the two kinds Powertools' correlation_paths has no constant for.
S3_REQUEST_ID = 'Records[0].responseElements."x-amz-request-id"'
SQS_MESSAGE_ID = "Records[0].messageId"


def _first_record(event: Mapping[str, Any]) -> Mapping[str, Any]:
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], Mapping):
        return records[0]
    return {}


class _RecordsEvent(EventSource):
    """An event whose ``Records`` come from one AWS service, named by their ``eventSource``."""

    event_source: ClassVar[str] = ""

    @classmethod
    def claims(cls, event: Mapping[str, Any]) -> bool:
        return _first_record(event).get("eventSource") == cls.event_source


class S3NotificationEvent(_RecordsEvent):
    """S3 ObjectCreated notifications sent straight to the function."""

    kind = "S3 event notification"
    event_source = "aws:s3"
    correlation_path = S3_REQUEST_ID


class SqsEvent(_RecordsEvent):
    """A batch of SQS messages: wrapped S3 notifications or inference jobs."""

    kind = "SQS messages (S3 notifications or inference jobs)"
    event_source = "aws:sqs"
    correlation_path = SQS_MESSAGE_ID


def _eventbridge(event: Mapping[str, Any], source: str, detail_type: str) -> bool:
    return event.get("source") == source and event.get("detail-type") == detail_type


class EventBridgeObjectCreated(EventSource):
    """S3's "Object Created" event through EventBridge."""

    kind = "EventBridge S3 Object Created"
    correlation_path = correlation_paths.EVENT_BRIDGE

    @classmethod
    def claims(cls, event: Mapping[str, Any]) -> bool:
        return _eventbridge(event, "aws.s3", "Object Created")


class ScheduleEvent(EventSource):
    """A schedule firing: score what is new under a prefix."""

    kind = 'EventBridge schedule ("Scheduled Event" or {"score_prefix": ...})'
    correlation_path = correlation_paths.EVENT_BRIDGE  # a rule's own input ({"score_prefix": ...}) has no id: None

    @classmethod
    def claims(cls, event: Mapping[str, Any]) -> bool:
        return _eventbridge(event, "aws.events", "Scheduled Event") or isinstance(event.get("score_prefix"), Mapping)


def _is_listed_object(item: Any) -> bool:
    return isinstance(item, Mapping) and isinstance(item.get("Key"), str) and "Etag" in item


class DistributedMapItem(EventSource):
    """One item (or one ItemBatcher batch) of a Step Functions Distributed Map over an S3 prefix."""

    kind = "Step Functions Distributed Map item (S3 ListObjectsV2)"
    correlation_path = None  # an item carries no id of the execution; the Lambda request id is in every line

    @classmethod
    def claims(cls, event: Mapping[str, Any]) -> bool:
        items = event.get("Items")
        if isinstance(items, list):
            return bool(items) and all(_is_listed_object(item) for item in items)
        return _is_listed_object(event)


BATCH_SOURCES: tuple[type[EventSource], ...] = (
    S3NotificationEvent,
    SqsEvent,
    EventBridgeObjectCreated,
    ScheduleEvent,
    DistributedMapItem,
)
