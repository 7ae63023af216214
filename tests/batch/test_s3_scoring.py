"""S3 uploads scored through the real entry point against moto: every delivery shape, exact outputs,
poison records, re-delivery and a crash mid-file."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from tests.testkit.aws import INPUT_BUCKET, Aws, batch_context
from tests.testkit.events import load_event

Entry = Callable[[dict[str, Any], Any], dict[str, Any]]
LABELS = [str(digit) for digit in range(10)]


def jsonl_of(x: np.ndarray, ids: bool = False) -> bytes:
    lines = []
    for index, image in enumerate(x):
        instance = image.astype(int).tolist()
        lines.append(json.dumps({"id": f"img-{index}", "instance": instance} if ids else instance))
    return ("\n".join(lines) + "\n").encode()


def jsonl_lines(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.decode().splitlines()]


def outputs(aws: Aws, key: str, extension: str) -> tuple[bytes, list[dict[str, Any]], dict[str, Any]]:
    base = "output/" + key.removeprefix("input/") + "/"
    predictions = aws.read(base + "predictions" + extension)
    errors = jsonl_lines(aws.read(base + "errors.jsonl"))
    summary = json.loads(aws.read(base + "summary.json"))
    return predictions, errors, summary


def test_s3_put_event_scores_a_jsonl_file_into_exact_predictions(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray], expected_probabilities: Callable[..., Any]
) -> None:
    x, _ = digits
    aws.put("input/digits.jsonl", jsonl_of(x[:40], ids=True))
    response = entry(load_event("s3.put"), batch_context())
    predictions, errors, summary = outputs(aws, "input/digits.jsonl", ".jsonl")
    rows = jsonl_lines(predictions)
    expected = expected_probabilities(x[:40])
    assert [row["record"] for row in rows] == list(range(1, 41))
    assert [row["id"] for row in rows] == [f"img-{index}" for index in range(40)]
    assert [row["label"] for row in rows] == [str(label) for label in expected.argmax(axis=1)]
    np.testing.assert_allclose([list(row["probabilities"].values()) for row in rows], expected, rtol=1e-6)
    assert errors == []
    assert summary["records"] == {"in": 40, "scored": 40, "failed": 0}
    assert summary["model"] == {"name": "digits-cnn", "version": "1"}
    assert summary["status"] == "scored"
    assert response["objects"][0]["records"] == summary["records"]


POISON_LINES = [
    b"[1, 2, 3",  # invalid JSON
    b"[" + b"1," * 62 + b"1]",  # 63 features
    b'["a", "b"]',  # strings where numbers belong
    b"[" + b"0," * 63 + b"NaN]",  # NaN
    b"[" + b"0," * 63 + b"Infinity]",  # Infinity
    b"",  # empty line
    b"[" + b"0," * 600_000 + b"0]",  # a line over MAX_RECORD_BYTES (1 MiB)
    b"[\xff\xfe 1]",  # not UTF-8
    b'{"id": "x", "values": [1]}',  # an object without 'instance'
]
POISON_REASONS = [
    "line {n}: invalid JSON (Expecting ',' delimiter at column 9)",
    "line {n}: has 63 values; expected 64 (shape [1, 8, 8], nested or flat)",
    "line {n}: expected numbers for datatype FP32, got strings",
    "line {n}: value at flat index 63 is NaN or Infinity; JSON numbers must be finite",
    "line {n}: value at flat index 63 is NaN or Infinity; JSON numbers must be finite",
    "line {n}: empty line; expected an instance",
    "line {n}: line is longer than MAX_RECORD_BYTES (1048576 bytes)",
    "line {n}: line is not valid UTF-8 (byte 1); files must be UTF-8",
    "line {n}: an object needs 'instance' and may have 'id'; got keys ['id', 'values']",
]


def test_poison_records_go_to_the_errors_object_and_the_good_ones_are_still_scored(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    x, _ = digits
    good = jsonl_of(x[:3]).splitlines()
    lines = [good[0], *POISON_LINES, good[1], good[2]]
    aws.put("input/digits.jsonl", b"\n".join(lines) + b"\n")
    entry(load_event("s3.put"), batch_context())
    predictions, errors, summary = outputs(aws, "input/digits.jsonl", ".jsonl")
    assert [row["record"] for row in jsonl_lines(predictions)] == [1, 11, 12]
    assert [error["record"] for error in errors] == list(range(2, 11))
    assert [error["reason"] for error in errors] == [
        reason.format(n=n) for n, reason in zip(range(2, 11), POISON_REASONS, strict=True)
    ]
    assert summary["records"] == {"in": 12, "scored": 3, "failed": 9}


def test_a_csv_upload_wrapped_in_sqs_is_scored_with_header_and_ids(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray], expected_probabilities: Callable[..., Any]
) -> None:
    x, _ = digits
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["id", *[f"pixel_{i}" for i in range(64)]])
    for index, image in enumerate(x[:5]):
        writer.writerow([f"row-{index}", *image.ravel().astype(int).tolist()])
    writer.writerow(["row-bad", "abc", *[0] * 63])
    aws.put("input/daily batch.csv", text.getvalue().encode())
    response = entry(load_event("sqs.s3-put"), batch_context())
    assert response == {"batchItemFailures": []}
    predictions, errors, summary = outputs(aws, "input/daily batch.csv", ".csv")
    rows = list(csv.reader(io.StringIO(predictions.decode())))
    assert rows[0] == ["record", "id", "label", "score", *LABELS]
    expected = expected_probabilities(x[:5])
    assert [row[:3] for row in rows[1:]] == [
        [str(n + 1), f"row-{n}", str(label)] for n, label in enumerate(expected.argmax(axis=1))
    ]
    np.testing.assert_allclose([[float(v) for v in row[4:]] for row in rows[1:]], expected, rtol=1e-6)
    assert errors == [{"record": 6, "line": 7, "id": None, "reason": "line 7, column 1: 'abc' is not a number"}]
    assert summary["records"] == {"in": 6, "scored": 5, "failed": 1}


def test_an_eventbridge_object_created_npy_gives_a_structured_npy(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray], expected_probabilities: Callable[..., Any]
) -> None:
    x, _ = digits
    data = x[:50].reshape(50, 64).copy()
    data[7, 3] = np.nan
    buffer = io.BytesIO()
    np.save(buffer, data)
    aws.put("input/digits.npy", buffer.getvalue())
    entry(load_event("eventbridge.object-created"), batch_context())
    predictions, errors, summary = outputs(aws, "input/digits.npy", ".npy")
    table = np.load(io.BytesIO(predictions))
    kept = [index for index in range(50) if index != 7]
    assert table["record"].tolist() == [index + 1 for index in kept]
    expected = expected_probabilities(x[kept])
    assert table["label"].tolist() == [str(label) for label in expected.argmax(axis=1)]
    np.testing.assert_allclose(table["probabilities"], expected, rtol=1e-6)
    assert errors == [{"record": 8, "line": None, "id": None, "reason": "row 7: holds NaN or Infinity"}]
    assert summary["records"] == {"in": 50, "scored": 49, "failed": 1}


def test_redelivery_leaves_the_bucket_exactly_as_the_first_delivery_did(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    aws.put("input/digits.jsonl", jsonl_of(digits[0][:20]))
    entry(load_event("s3.put"), batch_context())
    first = {key: aws.read(key) for key in aws.objects(prefix="output/")}
    again = entry(load_event("s3.put"), batch_context())
    assert {key: aws.read(key) for key in aws.objects(prefix="output/")} == first
    assert sorted(first) == [
        f"output/digits.jsonl/{name}" for name in ("errors.jsonl", "predictions.jsonl", "summary.json")
    ]
    assert again["objects"][0]["status"] == "already-scored"


def test_a_replaced_object_is_scored_again(aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray]) -> None:
    aws.put("input/digits.jsonl", jsonl_of(digits[0][:20]))
    entry(load_event("s3.put"), batch_context())
    aws.put("input/digits.jsonl", jsonl_of(digits[0][:7]))
    entry(load_event("s3.put"), batch_context())
    summary = json.loads(aws.read("output/digits.jsonl/summary.json"))
    assert summary["records"] == {"in": 7, "scored": 7, "failed": 0}


NOTHING_TO_SCORE = {
    "empty-file": ("input/digits.jsonl", b"", {"in": 0, "scored": 0, "failed": 0}, None),
    "only-bad-records": ("input/digits.jsonl", b"oops\n[1]\n\n", {"in": 3, "scored": 0, "failed": 3}, None),
    "not-npy": ("input/digits.npy", b"not numpy", {"in": 0, "scored": 0, "failed": 0}, "not a .npy file"),
    "unsupported-type": (
        "input/d.parquet",
        b"PAR1",
        {"in": 0, "scored": 0, "failed": 0},
        "'input/d.parquet': unsupported",
    ),
}


@pytest.mark.parametrize("case", NOTHING_TO_SCORE)
def test_files_with_nothing_to_score_still_get_a_summary(aws: Aws, entry: Entry, case: str) -> None:
    key, data, records, file_error = NOTHING_TO_SCORE[case]
    aws.put(key, data)
    event = load_event("s3.put")
    event["Records"][0]["s3"]["object"]["key"] = key
    entry(event, batch_context())
    summary = json.loads(aws.read(f"output/{key.removeprefix('input/')}/summary.json"))
    assert summary["records"] == records
    assert (summary["file_error"] or "").startswith(file_error or "")
    assert summary["status"] == ("rejected" if file_error else "scored")


def test_an_object_that_no_longer_exists_is_skipped_without_output(aws: Aws, entry: Entry) -> None:
    response = entry(load_event("s3.put"), batch_context())
    assert response["objects"] == [
        {
            "input": {"uri": f"s3://{INPUT_BUCKET}/input/digits.jsonl"},
            "status": "skipped",
            "reason": "the object no longer exists",
        }
    ]
    assert aws.objects(prefix="output/") == {}


def test_a_distributed_map_item_scores_its_object(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    rows = "\n".join(",".join(str(int(v)) for v in image.ravel()) for image in digits[0][:9])
    aws.put("input/digits.csv", rows.encode())
    response = entry(load_event("distributed-map.item"), batch_context())
    assert response["objects"][0]["records"] == {"in": 9, "scored": 9, "failed": 0}
    predictions = aws.read("output/digits.csv/predictions.csv").decode().splitlines()
    assert predictions[0] == ",".join(["record", "label", "score", *LABELS])
    assert len(predictions) == 10
