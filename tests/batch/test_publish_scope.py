"""What the batch path publishes, and for whom, through the real entry point against moto: outputs that
always describe the object as it now is, keys S3 would refuse rejected at once, spreadsheet-safe CSV, schedule
runs that go on past a failed object, and notifications scored only for INPUT_BUCKET. Each case failed on the
main of issue 15."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tests.testkit.aws import INPUT_BUCKET, OUTPUT_BUCKET, Aws, batch_context
from tests.testkit.batch_inputs import DEEP_LINE, digit_lines, published, s3_event
from tests.testkit.events import load_event

Entry = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class ReplacingContext:
    """A batch context that uploads a new version of the object the first time the scorer asks for the time
    left, i.e. after the first chunk was read: another instance is then scoring v2 while this one scores v1."""

    aws: Aws
    key: str
    newer: bytes
    replaced: bool = False

    def __post_init__(self) -> None:
        self.inner = batch_context()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def get_remaining_time_in_millis(self) -> int:
        if not self.replaced:
            self.replaced = True
            self.aws.put(self.key, self.newer)
        return int(self.inner.get_remaining_time_in_millis())


def test_an_object_replaced_while_it_is_scored_ends_with_the_outputs_of_the_new_version(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    older, newer = digit_lines(digits[0][:20]), digit_lines(digits[0][20:27])
    aws.put("input/digits.jsonl", b"\n".join(older) + b"\n")
    context = ReplacingContext(aws, "input/digits.jsonl", b"\n".join(newer) + b"\n")
    response = entry(s3_event("input/digits.jsonl"), context)
    predictions, _, summary = published(aws, "input/digits.jsonl")
    assert context.replaced
    assert summary["input"]["etag"] == aws.objects(prefix="input/")["input/digits.jsonl"]
    assert summary["records"] == {"in": 7, "scored": 7, "failed": 0}
    assert len(predictions) == 7
    assert response["objects"][0]["input"]["etag"] == summary["input"]["etag"]


def test_an_input_key_whose_outputs_s3_would_refuse_is_rejected_at_once_under_a_short_key(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    key = "input/" + "k" * 1000 + ".jsonl"  # 1,012 bytes: S3 takes it, but not output/<it>/predictions.jsonl
    aws.put(key, b"\n".join(digit_lines(digits[0][:2])) + b"\n")
    response = entry(s3_event(key), batch_context())
    [answer] = response["objects"]
    assert answer["status"] == "rejected"
    assert "over S3's 1024-byte key limit" in answer["file_error"]
    digest = hashlib.sha256(key.encode()).hexdigest()
    summary = json.loads(aws.read(f"output/_key-too-long/{digest}/summary.json"))
    assert summary == answer
    assert list(aws.objects(prefix="output/")) == [f"output/_key-too-long/{digest}/summary.json"]


def test_csv_predictions_neutralise_ids_a_spreadsheet_would_run_as_formulas(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    ids = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "-7", "plain"]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)  # "\rx" needs quotes
    writer.writerow(["id", *(f"p{i}" for i in range(64))])
    for record_id, image in zip(ids, digits[0], strict=False):
        writer.writerow([record_id, *image.astype(int).ravel().tolist()])
    aws.put("input/digits.csv", text.getvalue().encode())
    entry(s3_event("input/digits.csv"), batch_context())
    table = list(csv.reader(io.StringIO(aws.read("output/digits.csv/predictions.csv").decode(), newline="")))
    assert [row[1] for row in table[1:]] == [
        "'=HYPERLINK(\"http://x\")", "'+1+1", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx", "-7", "plain",
    ]  # fmt: skip


def test_a_schedule_run_goes_on_past_objects_that_fail_and_reports_each(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    good = b"\n".join(digit_lines(digits[0][:3])) + b"\n"
    aws.put("input/a-deep.jsonl", good + DEEP_LINE + b"\n")  # aborted whole runs before: now one failed record
    aws.s3.put_object(Bucket=INPUT_BUCKET, Key="input/b-archived.jsonl", Body=good, StorageClass="GLACIER")
    aws.put("input/c.jsonl", good)
    answer = entry(load_event("schedule.scheduled-event"), batch_context())
    assert answer["scored"] == [f"s3://{INPUT_BUCKET}/input/a-deep.jsonl", f"s3://{INPUT_BUCKET}/input/c.jsonl"]
    [failed] = answer["failed"]
    assert failed["uri"] == f"s3://{INPUT_BUCKET}/input/b-archived.jsonl"
    assert "InvalidObjectState" in failed["reason"]
    assert published(aws, "input/a-deep.jsonl")[2]["records"] == {"in": 4, "scored": 3, "failed": 1}


def _sqs_wrapped(notification: dict[str, Any]) -> dict[str, Any]:
    event = load_event("sqs.s3-put")
    event["Records"][0]["body"] = json.dumps(notification)
    return event


def test_notifications_naming_another_bucket_than_input_bucket_are_skipped_unscored(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    aws.put("input/digits.jsonl", b"\n".join(digit_lines(digits[0][:2])) + b"\n", bucket=OUTPUT_BUCKET)
    direct = entry(s3_event("input/digits.jsonl", bucket=OUTPUT_BUCKET), batch_context())
    queued = entry(_sqs_wrapped(s3_event("input/digits.jsonl", bucket=OUTPUT_BUCKET)), batch_context())
    bridge = load_event("eventbridge.object-created")
    bridge["detail"]["bucket"]["name"] = OUTPUT_BUCKET
    bridged = entry(bridge, batch_context())
    reason = f"bucket {OUTPUT_BUCKET!r} is not INPUT_BUCKET {INPUT_BUCKET!r}"
    for answer in (direct, bridged):
        assert [(o["status"], o["reason"]) for o in answer["objects"]] == [("skipped", reason)]
    assert queued == {"batchItemFailures": []}  # refused for good, not retried into the dead-letter queue
    assert list(aws.objects(OUTPUT_BUCKET)) == ["input/digits.jsonl"]
    assert aws.objects(prefix="output/") == {}


def test_an_object_replaced_between_a_schedules_listing_and_its_read_is_scored_as_it_now_is(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    # The listing gives b.jsonl's ETag; the context replaces b.jsonl as the run starts, so the GET pinned to
    # the listed ETag gets S3's 412: the new version is scored, and the run goes on (it failed whole before).
    aws.put("input/a.jsonl", b"\n".join(digit_lines(digits[0][:3])) + b"\n")
    aws.put("input/b.jsonl", b"\n".join(digit_lines(digits[0][:20])) + b"\n")
    context = ReplacingContext(aws, "input/b.jsonl", b"\n".join(digit_lines(digits[0][:5])) + b"\n")
    answer = entry(load_event("schedule.scheduled-event"), context)
    assert context.replaced
    assert answer["scored"] == [f"s3://{INPUT_BUCKET}/input/a.jsonl", f"s3://{INPUT_BUCKET}/input/b.jsonl"]
    assert answer["failed"] == []
    summary = published(aws, "input/b.jsonl")[2]
    assert summary["records"] == {"in": 5, "scored": 5, "failed": 0}
    assert summary["input"]["etag"] == aws.objects(prefix="input/")["input/b.jsonl"]
