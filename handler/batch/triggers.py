"""What each batch trigger does, on top of ObjectScorer (files) and run_job (inference requests).

Failures are left to the trigger's own retry machinery: an exception from a direct S3 or EventBridge
invocation makes Lambda retry the event; an SQS message whose handler raises is reported in
``batchItemFailures`` (Powertools' partial batch response), so only it comes back, and after the
queue's maxReceiveCount it goes to the dead-letter queue. Because outputs are published whole and
keyed by the input, a retry can only finish work, never duplicate it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes import S3Event, S3EventBridgeNotificationEvent
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from handler.batch.image_batches import ImageItem, score_image_batch
from handler.batch.image_records import IMAGE_FORMAT
from handler.batch.jobs import JobFailed, ResultScope, run_job
from handler.batch.records import format_of
from handler.batch.scoring import Deadline, ObjectScorer, OutOfTime
from handler.batch.store import ObjectHead, ObjectRef, S3Store, decoded_key, default_store
from handler.dataplane import DataPlane
from handler.observability import logger, metrics
from handler.settings import Settings


def s3_refs(event: Mapping[str, Any]) -> Iterator[ObjectRef]:
    """The objects an S3 notification names (keys arrive URL-encoded); s3:TestEvent names none."""
    for record in S3Event(dict(event)).records:
        if record.event_name.startswith("ObjectCreated:"):
            yield ObjectRef(record.s3.bucket.name, decoded_key(record.s3.get_object.key))


def _listed_head(item: Mapping[str, Any]) -> ObjectHead | None:
    """What ListObjectsV2 said of an item (its ETag and size), which spares a HEAD."""
    etag, size = item.get("Etag") or item.get("ETag"), item.get("Size")
    return ObjectHead(str(etag), int(size)) if etag and isinstance(size, int) else None


@dataclass
class PrefixRun:
    """What one schedule run did under a prefix: the invocation's answer."""

    prefix: str
    scored: list[str] = field(default_factory=list)
    already_scored: int = 0
    skipped: int = 0
    deferred_to_next_run: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)  # each object that failed, and why


def _failure(uri: str, exc: Exception) -> dict[str, str]:
    """One object's failure in a schedule run's answer, its reason bounded (a message can quote a key)."""
    return {"uri": uri[:1100], "reason": f"{type(exc).__name__}: {str(exc)[:500]}"}


class BatchTriggers:
    """One handler per batch event kind, sharing the data plane and the settings."""

    def __init__(self, plane: DataPlane, settings: Settings, store: Callable[[], S3Store] = default_store) -> None:
        self.plane = plane
        self.settings = settings
        self.store = store
        self.results = ResultScope(settings.job_results_bucket(), settings.jobs_result_prefix)
        # Built once; reports every failed message, even when all of them failed.
        self.processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def _scorer(self, context: Any) -> ObjectScorer:
        deadline = Deadline(context.get_remaining_time_in_millis, self.settings.batch_time_margin_s)
        return ObjectScorer(self.plane, self.settings, self.store(), deadline)

    def out_of_scope(self, bucket: str) -> str | None:
        """Why an event may not have objects of this bucket scored, or None when it may.

        Anyone who can send to the jobs queue or invoke the function can name any bucket; only INPUT_BUCKET
        (when set) is ever read, and never the output bucket, whose predictions would be scored as input.
        """
        settings = self.settings
        if settings.input_bucket and bucket != settings.input_bucket:
            return f"bucket {bucket[:63]!r} is not INPUT_BUCKET {settings.input_bucket!r}"
        if settings.output_bucket and bucket == settings.output_bucket and bucket != settings.input_bucket:
            return f"bucket {bucket[:63]!r} is OUTPUT_BUCKET; only inputs are scored"
        return None

    def _score_in_scope(self, scorer: ObjectScorer, ref: ObjectRef, head: ObjectHead | None = None) -> dict[str, Any]:
        if reason := self.out_of_scope(ref.bucket):
            logger.warning("object out of scope; not scored", extra={"bucket": ref.bucket[:63], "reason": reason})
            return {"input": {"uri": scorer.store.uri(ref)[:1100]}, "status": "skipped", "reason": reason}
        return scorer.score(ref, head)

    def s3_notification(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Score every object the notification names."""
        scorer = self._scorer(context)
        return {"objects": [self._score_in_scope(scorer, ref) for ref in s3_refs(event)]}

    def eventbridge_object_created(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Score the object of an EventBridge "Object Created" event."""
        detail = S3EventBridgeNotificationEvent(event).detail
        ref = ObjectRef(detail.bucket.name, detail.object.key)  # Powertools decodes the key
        return {"objects": [self._score_in_scope(self._scorer(context), ref)]}

    def distributed_map_item(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Score the listed object(s) one Distributed Map iteration hands over: each file alone, and (for an image
        model) the batch's images together, as one batch file (handler.batch.image_batches)."""
        batch_input: Mapping[str, Any] = event.get("BatchInput") or {}
        scorer = self._scorer(context)
        listed = [(self._item_ref(item, batch_input), item) for item in event.get("Items", [event])]
        images = [
            ImageItem(ref, _listed_head(item))
            for ref, item in listed
            if "Items" in event and format_of(ref.key) == IMAGE_FORMAT and scorer.model.info.image is not None
        ]
        image_keys = {item.ref for item in images}
        answer: dict[str, Any] = {
            "objects": [self._score_in_scope(scorer, ref) for ref, _ in listed if ref not in image_keys]
        }
        if images:
            buckets = {item.ref.bucket for item in images}
            reason = next((why for bucket in buckets if (why := self.out_of_scope(bucket))), None)
            if reason or len(buckets) > 1:
                raise ValueError(f"an image batch must be of one bucket this function may score: {reason or buckets}")
            answer["image_batch"] = score_image_batch(scorer, buckets.pop(), images)
        return answer

    def _item_ref(self, item: Mapping[str, Any], batch_input: Mapping[str, Any]) -> ObjectRef:
        bucket = item.get("Bucket") or batch_input.get("Bucket") or self.settings.input_bucket
        if not bucket:
            raise ValueError("the item names no bucket: add Bucket with the map's ItemSelector or set INPUT_BUCKET")
        return ObjectRef(str(bucket), str(item["Key"]))

    def schedule(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Score every object under the prefix that has no output yet, until time runs short."""
        spec = event.get("score_prefix") or event.get("detail") or {}
        bucket = spec.get("bucket") or self.settings.input_bucket
        if not bucket:
            raise ValueError("a schedule needs a bucket: in the event (score_prefix.bucket) or INPUT_BUCKET")
        prefix = str(spec.get("prefix") or self.settings.input_prefix)
        if reason := self.out_of_scope(str(bucket)):
            raise ValueError(f"the schedule names a bucket it may not score: {reason}")
        scorer = self._scorer(context)
        run = PrefixRun(prefix=f"s3://{bucket}/{prefix}")
        for ref, head in scorer.store.list_objects(str(bucket), prefix):
            if run.deferred_to_next_run or scorer.deadline.passed():
                run.deferred_to_next_run += 1  # keep counting so the answer says how much is left
                continue
            try:
                status = scorer.score(ref, head)["status"]  # the listing's ETag spares a HEAD per object
            except OutOfTime:
                run.deferred_to_next_run += 1
                continue
            except Exception as exc:  # one object's fault is its own: the objects after it are still scored
                logger.exception("object failed; the run goes on", extra={"object": scorer.store.uri(ref)[:1100]})
                run.failed.append(_failure(scorer.store.uri(ref), exc))
                continue
            if status == "already-scored":
                run.already_scored += 1
            elif status == "skipped":
                run.skipped += 1
            else:
                run.scored.append(scorer.store.uri(ref))
        answer = asdict(run)
        metrics.add_metric(name="ObjectsFailed", unit=MetricUnit.Count, value=len(run.failed))
        logger.info("schedule run", extra=answer | {"scored": len(run.scored)})
        return answer

    def sqs(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Each message on its own; the failed ones come back in batchItemFailures."""
        response = process_partial_response(
            event=event, record_handler=self._sqs_message, processor=self.processor, context=context
        )
        return dict(response)

    def _sqs_message(self, record: SQSRecord, lambda_context: Any) -> dict[str, Any]:
        try:
            body = json.loads(record.body)
        except json.JSONDecodeError as exc:
            raise JobFailed(
                f"message {record.message_id}: body is not JSON ({exc.msg} at column {exc.colno})"
            ) from None
        if isinstance(body, dict) and (body.get("Event") == "s3:TestEvent"):
            return {"ignored": "s3:TestEvent"}  # S3 sends one when the notification is configured
        if isinstance(body, dict) and isinstance(body.get("Records"), list):
            return self.s3_notification(body, lambda_context)
        try:
            return run_job(body, self.plane, self.store, scope=self.results)
        except JobFailed as exc:
            # Request bodies stay out of the logs unless LOG_LEVEL=DEBUG: the app's answer may quote the job.
            logger.warning("inference job failed", extra={"message_id": record.message_id, "reason": exc.summary})
            logger.debug("inference job failure detail", extra={"message_id": record.message_id, "reason": str(exc)})
            raise
        except Exception as exc:  # S3 refusing or failing the result's PUT, and anything else: by its kind only
            reason = f"the job failed ({type(exc).__name__}); the message is retried"
            logger.warning("inference job failed", extra={"message_id": record.message_id, "reason": reason})
            logger.debug("inference job failure detail", extra={"message_id": record.message_id, "reason": str(exc)})
            raise JobFailed(reason) from exc
