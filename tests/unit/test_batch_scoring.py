"""GIVEN an object in an in-memory store and a small model WHEN ObjectScorer scores it THEN its predictions, errors
and summary are published under keys derived from its key, the summary last, with records in = scored + failed; an
object already scored, outside INPUT_PREFIX, gone, of an unsupported type or replaced while it is scored is handled
as such, and an invocation about to time out publishes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from handler.batch.scoring import (
    REPLACED_ATTEMPTS,
    Deadline,
    ObjectScorer,
    OutOfTime,
    Tally,
    ndjson_line,
    summary_matches,
)
from handler.batch.store import ObjectHead, ObjectRef, ObjectReplaced
from handler.dataplane import DataPlane
from handler.settings import Settings
from tests.testkit.batch_fakes import MemoryStore, scaler_plane

BUCKET = "in-bucket"
KEY = "input/day/a.jsonl"
OUT = "output/day/a.jsonl/"
REF = ObjectRef(BUCKET, KEY)
PLENTY = Deadline(lambda: 900_000, 30.0)


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> DataPlane:
    return scaler_plane(tmp_path_factory.mktemp("scoring"))


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def scorer(plane: DataPlane, store: MemoryStore, deadline: Deadline = PLENTY, **settings: Any) -> ObjectScorer:
    return ObjectScorer(plane, Settings(input_bucket=BUCKET, **settings), store, deadline)


def jsonl(*lines: Any) -> bytes:
    return b"".join((line if isinstance(line, str) else json.dumps(line)).encode() + b"\n" for line in lines)


def doubled(record: int, values: list[float], **head: Any) -> dict[str, Any]:
    return {"record": record, **head, "outputs": {"output": [2.0 * value for value in values]}}


def test_good_lines_are_scored_bad_ones_are_errors_and_the_summary_goes_last_with_every_record_counted(
    plane: DataPlane, store: MemoryStore
) -> None:
    head = store.put(BUCKET, KEY, jsonl([1, 2, 3], "not json", [4, 5, 6], [1, 2], {"id": "x", "instance": [0, 0, 1]}))
    summary = scorer(plane, store).score(REF)
    assert summary["status"] == "scored"
    assert summary["records"] == {"in": 5, "scored": 3, "failed": 2}
    assert summary["input"] == {"uri": f"s3://{BUCKET}/{KEY}", "etag": head.etag, "size": head.size, "format": "jsonl"}
    assert summary["outputs"] == {
        "predictions": f"s3://{BUCKET}/{OUT}predictions.jsonl",
        "errors": f"s3://{BUCKET}/{OUT}errors.jsonl",
    }
    assert (summary["model"], summary["file_error"]) == ({"name": "scaler", "version": "1"}, None)
    assert store.lines(BUCKET, OUT + "predictions.jsonl") == [
        doubled(1, [1, 2, 3]),
        doubled(3, [4, 5, 6]),
        doubled(5, [0, 0, 1], id="x"),
    ]
    errors = store.lines(BUCKET, OUT + "errors.jsonl")
    assert [(error["record"], error["line"]) for error in errors] == [(2, 2), (4, 4)]
    assert errors[0]["reason"].startswith("line 2: invalid JSON (Expecting value at column 1)")
    assert errors[1]["reason"] == "line 4: has 2 values; expected 3 (shape [3], nested or flat)"
    assert store.writes == [
        f"s3://{BUCKET}/{OUT}{name}" for name in ("predictions.jsonl", "errors.jsonl", "summary.json")
    ]
    assert store.json(BUCKET, OUT + "summary.json") == summary


def test_small_chunks_still_score_every_record_once_in_file_order(plane: DataPlane, store: MemoryStore) -> None:
    rows = [[float(n), 0.0, 1.0] for n in range(1, 8)]
    store.put(BUCKET, KEY, jsonl(*rows[:3], "[oops", *rows[3:]))
    summary = scorer(plane, store, batch_chunk_records=2).score(REF)
    assert summary["records"] == {"in": 8, "scored": 7, "failed": 1}
    predictions = store.lines(BUCKET, OUT + "predictions.jsonl")
    assert [line["record"] for line in predictions] == [1, 2, 3, 5, 6, 7, 8]
    assert [line["outputs"]["output"][0] for line in predictions] == [2.0 * n for n in range(1, 8)]
    assert [error["record"] for error in store.lines(BUCKET, OUT + "errors.jsonl")] == [4]


def test_an_object_already_scored_with_the_same_etag_model_and_label_column_is_not_scored_again(
    plane: DataPlane, store: MemoryStore
) -> None:
    store.put(BUCKET, KEY, jsonl([1, 2, 3]))
    first = scorer(plane, store).score(REF)
    written = list(store.writes)
    again = scorer(plane, store).score(REF)
    assert again == {**first, "status": "already-scored"}
    assert store.writes == written  # nothing published twice
    labelled = scorer(plane, store, batch_label_column="truth").score(REF)  # a summary without label counts
    assert labelled["status"] == "scored"
    assert labelled["labels"]["column"] == "truth"
    assert len(store.writes) == 2 * len(written)


@pytest.mark.parametrize(
    ("summary", "label", "matches"),
    [
        (None, None, False),
        ({}, None, False),
        ({"input": {"etag": '"e1"'}, "model": {"name": "scaler", "version": "1"}}, None, True),
        ({"input": {"etag": '"e2"'}, "model": {"name": "scaler", "version": "1"}}, None, False),
        ({"input": {"etag": '"e1"'}, "model": {"name": "scaler", "version": "2"}}, None, False),
        ({"input": {"etag": '"e1"'}, "model": {"name": "scaler", "version": "1"}}, "truth", False),
        (
            {"input": {"etag": '"e1"'}, "model": {"name": "scaler", "version": "1"}, "labels": {"column": "truth"}},
            "truth",
            True,
        ),
        (
            {"input": {"etag": '"e1"'}, "model": {"name": "scaler", "version": "1"}, "labels": {"column": "truth"}},
            None,
            False,
        ),
    ],
)
def test_a_summary_marks_an_object_done_only_for_its_etag_model_version_and_label_column(
    plane: DataPlane, summary: dict[str, Any] | None, label: str | None, matches: bool
) -> None:
    assert summary_matches(summary, ObjectHead('"e1"', 10), plane.find(), label) is matches


def test_an_object_outside_input_prefix_is_skipped_and_nothing_is_written(plane: DataPlane, store: MemoryStore) -> None:
    ref = ObjectRef(BUCKET, "elsewhere/a.jsonl")
    store.put(BUCKET, ref.key, jsonl([1, 2, 3]))
    assert scorer(plane, store).score(ref) == {
        "input": {"uri": f"s3://{BUCKET}/elsewhere/a.jsonl"},
        "status": "skipped",
        "reason": "not under INPUT_PREFIX 'input/'",
    }
    assert store.writes == []


def test_an_object_that_no_longer_exists_is_skipped_and_nothing_is_written(
    plane: DataPlane, store: MemoryStore
) -> None:
    summary = scorer(plane, store).score(REF)
    assert (summary["status"], summary["reason"]) == ("skipped", "the object no longer exists")
    assert store.writes == []


def test_a_file_of_an_unsupported_type_is_rejected_with_a_summary_and_one_error_saying_what_is_taken(
    plane: DataPlane, store: MemoryStore
) -> None:
    ref = ObjectRef(BUCKET, "input/notes.txt")
    store.put(BUCKET, ref.key, b"1,2,3\n")
    summary = scorer(plane, store).score(ref)
    reason = (
        "'input/notes.txt': unsupported file type; expected .jsonl, .ndjson, .csv or .npy (or, for an image model, "
        ".png, .jpg, .jpeg or .webp)"
    )
    assert (summary["status"], summary["file_error"], summary["input"]["format"]) == ("rejected", reason, None)
    assert summary["records"] == {"in": 0, "scored": 0, "failed": 0}
    assert store.lines(BUCKET, "output/notes.txt/errors.jsonl") == [
        {"record": None, "line": None, "id": None, "reason": reason}
    ]
    assert store.read(BUCKET, "output/notes.txt/predictions.jsonl") == b""


def test_an_image_for_a_model_that_takes_no_images_is_rejected_whole(plane: DataPlane, store: MemoryStore) -> None:
    ref = ObjectRef(BUCKET, "input/photo.png")
    store.put(BUCKET, ref.key, b"\x89PNG\r\n\x1a\n")
    summary = scorer(plane, store).score(ref)
    assert summary["status"] == "rejected"
    assert summary["file_error"] == "an image object, but this model does not take images"
    assert summary["records"] == {"in": 0, "scored": 0, "failed": 0}


def test_a_csv_with_a_header_gives_csv_predictions_keeping_each_rows_id(plane: DataPlane, store: MemoryStore) -> None:
    ref = ObjectRef(BUCKET, "input/rows.csv")
    store.put(BUCKET, ref.key, b"id,a,b,c\nr1,1,2,3\nr2,x,0,0\nr3,0,0,0.5\n")
    summary = scorer(plane, store).score(ref)
    assert (summary["input"]["format"], summary["records"]) == ("csv", {"in": 3, "scored": 2, "failed": 1})
    assert store.read(BUCKET, "output/rows.csv/predictions.csv").decode().splitlines() == [
        "record,id,output_0,output_1,output_2",
        "1,r1,2.0,4.0,6.0",
        "3,r3,0.0,0.0,1.0",
    ]
    [error] = store.lines(BUCKET, "output/rows.csv/errors.jsonl")
    assert (error["record"], error["line"], error["reason"]) == (2, 3, "line 3, column 1: 'x' is not a number")


def test_with_an_output_bucket_the_outputs_go_there_and_the_input_bucket_only_holds_inputs(
    plane: DataPlane, store: MemoryStore
) -> None:
    store.put(BUCKET, KEY, jsonl([1, 2, 3]))
    summary = scorer(plane, store, output_bucket="out-bucket").score(REF)
    assert summary["outputs"]["predictions"] == f"s3://out-bucket/{OUT}predictions.jsonl"
    assert store.keys("out-bucket") == [OUT + name for name in ("errors.jsonl", "predictions.jsonl", "summary.json")]
    assert store.keys(BUCKET) == [KEY]


def test_a_label_column_is_carried_into_the_predictions_and_counted_in_the_summary(
    plane: DataPlane, store: MemoryStore
) -> None:
    lines = [{"instance": [1, 0, 0], "truth": 3}, {"instance": [2, 0, 0], "truth": 4}, {"instance": [1, 1, 1]}]
    store.put(BUCKET, KEY, jsonl(*lines))
    summary = scorer(plane, store, batch_label_column="truth").score(REF)
    assert summary["records"] == {"in": 3, "scored": 3, "failed": 0}
    assert summary["labels"] == {
        "column": "truth",
        "task": "regression",
        "records": 2,
        "missing": 1,
        "unreadable": 0,
        "sums": {"y": 7.0, "y2": 25.0, "error": -1.0, "abs": 1.0, "sq": 1.0},
        "sample": [[3.0, 2.0], [4.0, 4.0]],
    }
    assert store.lines(BUCKET, OUT + "predictions.jsonl")[0] == doubled(1, [1, 0, 0], truth=3)


def test_an_invocation_about_to_time_out_stops_before_a_chunk_and_publishes_nothing(
    plane: DataPlane, store: MemoryStore
) -> None:
    store.put(BUCKET, KEY, jsonl([1, 2, 3]))
    with pytest.raises(OutOfTime, match="nothing was published"):
        scorer(plane, store, Deadline(lambda: 29_999, 30.0)).score(REF)
    assert store.writes == []
    assert store.keys(BUCKET) == [KEY]


def test_the_deadline_passes_once_less_than_the_margin_remains() -> None:
    assert Deadline(lambda: 30_000, 30.0).passed() is False
    assert Deadline(lambda: 29_999, 30.0).passed() is True
    assert Deadline(lambda: 0, 0.0).passed() is False


def test_an_object_replaced_while_it_is_read_is_scored_as_its_new_version(plane: DataPlane, store: MemoryStore) -> None:
    store.put(BUCKET, KEY, jsonl([1, 1, 1]))
    replaced: list[ObjectHead] = []

    def replace_once(ref: ObjectRef) -> None:
        if not replaced:
            replaced.append(store.put(BUCKET, KEY, jsonl([5, 5, 5], [6, 6, 6])))

    store.on_open = replace_once
    summary = scorer(plane, store).score(REF)
    assert summary["input"]["etag"] == replaced[0].etag
    assert summary["records"] == {"in": 2, "scored": 2, "failed": 0}
    assert store.lines(BUCKET, OUT + "predictions.jsonl") == [doubled(1, [5, 5, 5]), doubled(2, [6, 6, 6])]


def test_an_object_replaced_after_its_outputs_went_up_is_scored_again_so_they_describe_it_as_it_is(
    plane: DataPlane, store: MemoryStore
) -> None:
    store.put(BUCKET, KEY, jsonl([1, 1, 1]))
    newer: list[ObjectHead] = []

    def replace_after_first_summary(ref: ObjectRef) -> None:
        if not newer:
            newer.append(store.put(BUCKET, KEY, jsonl([3, 3, 3])))

    store.on_put_json = replace_after_first_summary
    summary = scorer(plane, store).score(REF)
    assert summary["input"]["etag"] == newer[0].etag
    assert store.json(BUCKET, OUT + "summary.json")["input"]["etag"] == newer[0].etag
    assert store.lines(BUCKET, OUT + "predictions.jsonl") == [doubled(1, [3, 3, 3])]
    assert len(store.writes) == 6  # two full publications, each summary last


def test_an_object_that_keeps_being_replaced_fails_after_a_few_attempts_with_no_summary(
    plane: DataPlane, store: MemoryStore
) -> None:
    store.put(BUCKET, KEY, jsonl([1, 1, 1]))

    def replace_every_time(ref: ObjectRef) -> None:
        store.put(BUCKET, KEY, jsonl([2, 2, 2]))

    store.on_open = replace_every_time
    with pytest.raises(ObjectReplaced) as raised:
        scorer(plane, store).score(REF)
    assert str(raised.value) == f"s3://{BUCKET}/{KEY} was replaced {REPLACED_ATTEMPTS} times while it was scored"
    assert store.writes == []


def test_an_input_key_whose_output_keys_s3_would_refuse_is_rejected_under_a_short_key(
    plane: DataPlane, store: MemoryStore
) -> None:
    ref = ObjectRef(BUCKET, "input/" + "k" * 1000 + ".jsonl")
    store.put(BUCKET, ref.key, jsonl([1, 2, 3]))
    summary = scorer(plane, store).score(ref)
    assert (summary["status"], summary["records"]) == ("rejected", {"in": 0, "scored": 0, "failed": 0})
    longest = len(f"output/{'k' * 1000}.jsonl/predictions.jsonl")
    assert summary["file_error"] == (
        f"the output keys would be {longest} bytes, over S3's 1024-byte key limit; shorten the input key by at "
        f"least {longest - 1024} bytes"
    )
    [key] = [key for key in store.keys(BUCKET) if key != ref.key]
    assert key.startswith("output/_key-too-long/")
    assert key.endswith("/summary.json")
    assert store.json(BUCKET, key) == summary


def test_a_tally_counts_records_in_as_scored_plus_failed_and_error_lines_are_compact_json() -> None:
    tally = Tally(scored=7, failed=3)
    assert tally.records_in == 10
    assert ndjson_line({"record": 1, "reason": "é"}) == b'{"record":1,"reason":"\\u00e9"}\n'
