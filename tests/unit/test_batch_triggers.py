"""GIVEN each batch trigger's event (an S3 notification, EventBridge's Object Created, a Distributed Map item, a
schedule, SQS messages) and an in-memory store WHEN BatchTriggers handles it THEN only objects of buckets the function
may score are scored, a schedule scores what has no output yet and reports every object it did not, until time runs
short, and only the SQS messages that failed come back in batchItemFailures."""

from __future__ import annotations

import json
import re
from typing import Any, cast

import pytest

from handler.batch.store import ObjectHead, ObjectRef, S3Store
from handler.batch.triggers import BatchTriggers, _listed_head, s3_refs
from handler.dataplane import DataPlane
from handler.settings import Settings
from tests.testkit.batch_fakes import FixedContext, MemoryStore, scaler_plane

IN = "in-bucket"
OUT = "out-bucket"
ROWS = b"[1, 2, 3]\n[0, 0, 1]\n"


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> DataPlane:
    return scaler_plane(tmp_path_factory.mktemp("triggers"))


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def triggers(plane: DataPlane, store: MemoryStore, **settings: Any) -> BatchTriggers:
    """The batch function's handlers on ``store`` (they use only what the ObjectStore protocol has)."""
    return BatchTriggers(plane, Settings(**settings), store=lambda: cast(S3Store, store))


def notification(*objects: tuple[str, str, str]) -> dict[str, Any]:
    """An S3 event notification naming (event name, bucket, URL-encoded key) records."""
    return {
        "Records": [
            {"eventName": name, "eventSource": "aws:s3", "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}
            for name, bucket, key in objects
        ]
    }


def sqs(*bodies: str) -> dict[str, Any]:
    """An SQS event of one message per body, message ids m0, m1, ..."""
    return {
        "Records": [
            {
                "messageId": f"m{index}",
                "receiptHandle": f"r{index}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:jobs",
                "awsRegion": "us-east-1",
            }
            for index, body in enumerate(bodies)
        ]
    }


def statuses(answer: dict[str, Any]) -> list[tuple[str, str]]:
    return [(item["input"]["uri"], item["status"]) for item in answer["objects"]]


def test_an_s3_notification_names_its_created_objects_with_their_keys_decoded() -> None:
    event = notification(
        ("ObjectCreated:Put", IN, "input/daily+batch%2B1.jsonl"),
        ("ObjectRemoved:Delete", IN, "input/gone.jsonl"),
        ("ObjectCreated:CompleteMultipartUpload", IN, "input/caf%C3%A9.csv"),
    )
    assert list(s3_refs(event)) == [ObjectRef(IN, "input/daily batch+1.jsonl"), ObjectRef(IN, "input/café.csv")]
    assert list(s3_refs({"Records": []})) == []


@pytest.mark.parametrize(
    ("item", "head"),
    [
        ({"Key": "k", "Etag": '"e"', "Size": 12}, ObjectHead('"e"', 12)),
        ({"Key": "k", "ETag": '"e"', "Size": 0}, ObjectHead('"e"', 0)),
        ({"Key": "k", "Size": 12}, None),
        ({"Key": "k", "Etag": '"e"', "Size": "12"}, None),
        ({"Key": "k", "Etag": "", "Size": 12}, None),
    ],
)
def test_a_listed_item_spares_a_head_only_when_it_gives_an_etag_and_an_integer_size(
    item: dict[str, Any], head: ObjectHead | None
) -> None:
    assert _listed_head(item) == head


@pytest.mark.parametrize(
    ("settings", "bucket", "reason"),
    [
        ({"input_bucket": IN}, IN, None),
        ({"input_bucket": IN}, "elsewhere", f"bucket 'elsewhere' is not INPUT_BUCKET {IN!r}"),
        ({"output_bucket": OUT}, OUT, f"bucket {OUT!r} is OUTPUT_BUCKET; only inputs are scored"),
        ({"output_bucket": OUT}, "anything", None),
        ({"input_bucket": IN, "output_bucket": IN, "output_prefix": "out/"}, IN, None),
        ({}, "any-bucket", None),
        ({"input_bucket": IN}, "b" * 100, f"bucket {'b' * 63!r} is not INPUT_BUCKET {IN!r}"),
    ],
    ids=["input", "not-input", "output", "not-output", "shared-bucket", "unset", "long-name"],
)
def test_only_input_bucket_when_set_and_never_a_separate_output_bucket_may_be_scored(
    plane: DataPlane, store: MemoryStore, settings: dict[str, str], bucket: str, reason: str | None
) -> None:
    assert triggers(plane, store, **settings).out_of_scope(bucket) == reason


def test_a_notification_scores_the_objects_in_scope_and_skips_the_others_unread(
    plane: DataPlane, store: MemoryStore
) -> None:
    store.put(IN, "input/a.jsonl", ROWS)
    store.put("elsewhere", "input/b.jsonl", ROWS)
    event = notification(
        ("ObjectCreated:Put", IN, "input/a.jsonl"), ("ObjectCreated:Put", "elsewhere", "input/b.jsonl")
    )
    answer = triggers(plane, store, input_bucket=IN).s3_notification(event, FixedContext())
    assert statuses(answer) == [(f"s3://{IN}/input/a.jsonl", "scored"), ("s3://elsewhere/input/b.jsonl", "skipped")]
    assert answer["objects"][0]["records"] == {"in": 2, "scored": 2, "failed": 0}
    assert answer["objects"][1]["reason"] == f"bucket 'elsewhere' is not INPUT_BUCKET {IN!r}"
    assert store.keys("elsewhere") == ["input/b.jsonl"]
    assert store.lines(IN, "output/a.jsonl/predictions.jsonl")[0] == {"record": 1, "outputs": {"output": [2, 4, 6]}}


def test_an_eventbridge_object_created_event_scores_its_object(plane: DataPlane, store: MemoryStore) -> None:
    store.put(IN, "input/new rows.jsonl", ROWS)
    event = {
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": IN}, "object": {"key": "input/new+rows.jsonl"}},
    }
    answer = triggers(plane, store, input_bucket=IN).eventbridge_object_created(event, FixedContext())
    assert statuses(answer) == [(f"s3://{IN}/input/new rows.jsonl", "scored")]


def test_a_distributed_map_batch_scores_each_item_in_the_bucket_its_batch_input_names(
    plane: DataPlane, store: MemoryStore
) -> None:
    store.put(IN, "input/a.jsonl", ROWS)
    store.put(IN, "input/b.csv", b"1,2,3\n")
    event = {"BatchInput": {"Bucket": IN}, "Items": [{"Key": "input/a.jsonl"}, {"Key": "input/b.csv", "Size": 6}]}
    answer = triggers(plane, store).distributed_map_item(event, FixedContext())
    assert statuses(answer) == [(f"s3://{IN}/input/a.jsonl", "scored"), (f"s3://{IN}/input/b.csv", "scored")]
    assert "image_batch" not in answer


def test_a_distributed_map_item_alone_is_its_own_batch_and_without_a_bucket_it_is_refused(
    plane: DataPlane, store: MemoryStore
) -> None:
    store.put(IN, "input/a.jsonl", ROWS)
    single = triggers(plane, store, input_bucket=IN).distributed_map_item({"Key": "input/a.jsonl"}, FixedContext())
    assert statuses(single) == [(f"s3://{IN}/input/a.jsonl", "scored")]
    with pytest.raises(
        ValueError, match=r"^the item names no bucket: add Bucket with the map's ItemSelector or set INPUT_BUCKET$"
    ):
        triggers(plane, store).distributed_map_item({"Items": [{"Key": "input/a.jsonl"}]}, FixedContext())


@pytest.mark.parametrize(
    ("settings", "event", "words"),
    [
        ({}, {}, "a schedule needs a bucket: in the event (score_prefix.bucket) or INPUT_BUCKET"),
        (
            {"input_bucket": IN},
            {"score_prefix": {"bucket": "elsewhere"}},
            f"the schedule names a bucket it may not score: bucket 'elsewhere' is not INPUT_BUCKET {IN!r}",
        ),
    ],
    ids=["no-bucket", "not-input-bucket"],
)
def test_a_schedule_without_a_bucket_it_may_score_is_refused(
    plane: DataPlane, store: MemoryStore, settings: dict[str, str], event: dict[str, Any], words: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(words)) as raised:
        triggers(plane, store, **settings).schedule(event, FixedContext())
    assert str(raised.value) == words


def test_a_schedule_scores_what_has_no_output_yet_and_reports_each_object_it_did_not(
    plane: DataPlane, store: MemoryStore
) -> None:
    for key in ("input/a.jsonl", "input/b.jsonl", "input/c.jsonl", "input/folder/"):
        store.put(IN, key, ROWS if key.endswith(".jsonl") else b"")
    store.put(IN, "other/x.jsonl", ROWS)
    batch = triggers(plane, store, input_bucket=IN)
    batch.s3_notification(notification(("ObjectCreated:Put", IN, "input/b.jsonl")), FixedContext())

    def fail_c(ref: ObjectRef) -> None:
        if ref.key == "input/c.jsonl":
            raise ConnectionError("reset by peer " + "x" * 1000)

    store.on_open = fail_c
    answer = batch.schedule({"score_prefix": {"bucket": IN, "prefix": "input/"}}, FixedContext())
    assert answer["prefix"] == f"s3://{IN}/input/"
    assert answer["scored"] == [f"s3://{IN}/input/a.jsonl"]
    assert (answer["already_scored"], answer["skipped"], answer["deferred_to_next_run"]) == (1, 1, 0)
    [failure] = answer["failed"]
    assert failure["uri"] == f"s3://{IN}/input/c.jsonl"
    assert failure["reason"] == "ConnectionError: reset by peer " + "x" * (500 - len("reset by peer "))
    assert "output/x.jsonl/summary.json" not in store.keys(IN)  # outside the prefix: never listed


def test_a_schedule_that_runs_short_of_time_defers_the_rest_and_counts_it(plane: DataPlane, store: MemoryStore) -> None:
    for name in "abcd":
        store.put(IN, f"input/{name}.jsonl", ROWS)
    context = FixedContext(remaining_ms=900_000)

    def out_of_time_after_the_first(ref: ObjectRef) -> None:
        context.remaining_ms = 1_000  # under the 30 s margin from now on

    store.on_put_json = out_of_time_after_the_first
    answer = triggers(plane, store, input_bucket=IN).schedule({"score_prefix": {"bucket": IN}}, context)
    assert answer["scored"] == [f"s3://{IN}/input/a.jsonl"]
    assert answer["deferred_to_next_run"] == 3
    assert answer["failed"] == []
    assert [key for key in store.keys(IN) if key.endswith("summary.json")] == ["output/a.jsonl/summary.json"]


def test_an_object_out_of_time_mid_file_is_deferred_and_the_objects_after_it_too(
    plane: DataPlane, store: MemoryStore
) -> None:
    for name in "abc":
        store.put(IN, f"input/{name}.jsonl", ROWS)
    context = FixedContext()

    def time_runs_out_reading_b(ref: ObjectRef) -> None:
        if ref.key == "input/b.jsonl":
            context.remaining_ms = 0

    store.on_open = time_runs_out_reading_b
    answer = triggers(plane, store, input_bucket=IN).schedule({"detail": {"bucket": IN, "prefix": "input/"}}, context)
    assert (answer["scored"], answer["deferred_to_next_run"]) == ([f"s3://{IN}/input/a.jsonl"], 2)
    assert not any(key.startswith("output/b.jsonl/") for key in store.keys(IN))


def test_only_the_sqs_messages_that_fail_come_back_as_batch_item_failures(plane: DataPlane, store: MemoryStore) -> None:
    store.put(IN, "input/a.jsonl", ROWS)
    bodies = [
        json.dumps({"instances": [[1, 2, 3]], "result_uri": f"s3://{OUT}/jobs/one.json"}),
        "{not json",
        json.dumps({"Event": "s3:TestEvent", "Bucket": IN}),
        json.dumps(notification(("ObjectCreated:Put", IN, "input/a.jsonl"))),
        json.dumps([1, 2, 3]),
        json.dumps({"instances": [[1, 2]]}),
        json.dumps({"instances": [[1, 2, 3]], "result_uri": f"s3://{IN}/output/a.jsonl/summary.json"}),
    ]
    batch = triggers(plane, store, input_bucket=IN, jobs_result_bucket=OUT)
    answer = batch.sqs(sqs(*bodies), FixedContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": f"m{index}"} for index in (1, 4, 5, 6)]}
    assert store.json(OUT, "jobs/one.json")["predictions"] == [{"outputs": {"output": [2.0, 4.0, 6.0]}}]
    assert store.json(IN, "output/a.jsonl/summary.json")["records"] == {"in": 2, "scored": 2, "failed": 0}


def test_a_job_whose_answer_cannot_be_stored_fails_and_is_logged_by_the_kind_of_fault_only(
    plane: DataPlane, caplog: pytest.LogCaptureFixture
) -> None:
    class Refusing(MemoryStore):
        def put_json(self, ref: ObjectRef, value: Any) -> None:
            raise PermissionError(f"AccessDenied on {ref.uri}")

    refusing = Refusing()
    batch = triggers(plane, refusing, jobs_result_bucket=OUT)
    body = json.dumps({"instances": [[1, 2, 3]], "result_uri": f"s3://{OUT}/jobs/one.json"})
    assert batch.sqs(sqs(body), FixedContext()) == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert refusing.keys(OUT) == []
    reasons = [getattr(record, "reason", None) for record in caplog.records if record.levelname == "WARNING"]
    assert reasons == ["the job failed (PermissionError); the message is retried"]
