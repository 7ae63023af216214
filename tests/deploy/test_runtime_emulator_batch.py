"""GIVEN the image's task root laid out from the Dockerfile's own lines and AWS's Runtime Interface Emulator started on
it as the base image starts it, with the batch function's environment from template.yaml (buckets in moto) WHEN
the batch event files are posted to its invocations URL THEN they leave the expected objects and batch item
failures, logged under the request id the emulator gave. (INIT failures: test_runtime_emulator_init.py.)"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from tests.testkit.aws import ENV, INPUT_BUCKET, OUTPUT_BUCKET, Aws, aws_environment
from tests.testkit.emulator import emulator
from tests.testkit.events import load_event
from tests.testkit.lambda_base import Layout
from tests.testkit.paths import DEFAULT_MODEL, DIGITS_TEST_SET

BATCH_FILES = [
    "s3.put.json",
    "sqs.s3-put.json",
    "eventbridge.object-created.json",
    "distributed-map.item.json",
    "sqs.jobs-mixed.json",
    "schedule.scheduled-event.json",
    "schedule.rule-input.json",
]
POISON_IDS = [f"0d3f6d5e-1a2b-4c3d-8e9f-00000000000{n}" for n in (3, 4, 6, 7)]
FUNCTION_NAME = "onnx-lambda-batch"
# The template's buckets, as this stack's moto names them.
BUCKETS = {"InputBucket": INPUT_BUCKET, "OutputBucket": OUTPUT_BUCKET}
START = re.compile(r"^START RequestId: (\S+)")


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    """Held-out digits [n, 1, 8, 8] as float32."""
    x: np.ndarray = np.load(DIGITS_TEST_SET)["X"]
    return x.astype(np.float32)


def expected_labels(x: np.ndarray) -> list[str]:
    """What onnxruntime alone says for these digits."""
    session = ort.InferenceSession(str(DEFAULT_MODEL), providers=["CPUExecutionProvider"])
    return [str(label) for label in session.run(["label"], {"input": x.reshape(-1, 1, 8, 8)})[0]]


def upload_inputs(aws: Aws, x: np.ndarray) -> None:
    """The objects the batch event files name, plus one only the schedule finds."""
    jsonl = [json.dumps({"id": f"img-{n}", "instance": row.astype(int).tolist()}) for n, row in enumerate(x[:6])]
    aws.put("input/digits.jsonl", ("\n".join(jsonl) + "\n").encode())
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["id", *[f"pixel_{i}" for i in range(64)]])
    writer.writerows([f"row-{n}", *row.ravel().astype(int).tolist()] for n, row in enumerate(x[6:10]))
    aws.put("input/daily batch.csv", table.getvalue().encode())
    npy = io.BytesIO()
    np.save(npy, x[10:15].reshape(5, 64))
    aws.put("input/digits.npy", npy.getvalue())
    aws.put("input/digits.csv", "\n".join(",".join(str(int(v)) for v in r.ravel()) for r in x[15:18]).encode())
    aws.put("input/extra.jsonl", "".join(json.dumps(r.astype(int).tolist()) + "\n" for r in x[18:20]).encode())


@dataclass(frozen=True)
class BatchRun:
    """The emulator's answers to the batch events, the request id it gave each, what it printed, and the objects
    left in the output bucket (scores under output/, job results under jobs/)."""

    answers: dict[str, Any]
    request_ids: dict[str, str]
    log_records: list[dict[str, Any]]
    outputs: dict[str, bytes]
    results: dict[str, bytes]


@pytest.fixture(scope="module")
def batch_run(layout: Layout, digits: np.ndarray) -> Iterator[BatchRun]:
    """Every batch event file through one emulator, with the batch function's environment from template.yaml."""
    with aws_environment() as aws:
        aws.empty_buckets()
        upload_inputs(aws, digits)
        env = layout.environment("BatchFunction", BUCKETS, **ENV, AWS_ENDPOINT_URL=aws.url)
        env["AWS_LAMBDA_FUNCTION_NAME"] = FUNCTION_NAME
        with emulator(layout, env, timeout_s=900) as rie:
            answers = {}
            for name in BATCH_FILES:
                status, answers[name] = rie.invoke(load_event(name))
                assert status == 200, answers[name]
            starts = [match[1] for line in rie.output if (match := START.match(line))]
            records = rie.logged_under(starts)
        outputs = {key: aws.read(key, OUTPUT_BUCKET) for key in aws.objects(OUTPUT_BUCKET, prefix="output/")}
        results = {key: aws.read(key, OUTPUT_BUCKET) for key in aws.objects(OUTPUT_BUCKET, prefix="jobs/")}
        yield BatchRun(answers, dict(zip(BATCH_FILES, starts, strict=True)), records, outputs, results)


def answer(run: BatchRun, name: str) -> Any:
    """The function's response to one batch event file (an invocation error would carry errorType)."""
    response = run.answers[name]
    assert "errorType" not in response, response
    return response


def summary(run: BatchRun, key: str) -> dict[str, Any]:
    """summary.json of one scored input object."""
    data: dict[str, Any] = json.loads(run.outputs[f"output/{key.removeprefix('input/')}/summary.json"])
    return data


def test_s3_put_scores_its_jsonl_object_into_exact_predictions(batch_run: BatchRun, digits: np.ndarray) -> None:
    response = answer(batch_run, "s3.put.json")
    rows = [json.loads(line) for line in batch_run.outputs["output/digits.jsonl/predictions.jsonl"].splitlines()]
    assert [row["id"] for row in rows] == [f"img-{n}" for n in range(6)]
    assert [row["label"] for row in rows] == expected_labels(digits[:6])
    assert summary(batch_run, "input/digits.jsonl")["records"] == {"in": 6, "scored": 6, "failed": 0}
    assert response["objects"][0]["records"] == {"in": 6, "scored": 6, "failed": 0}


@pytest.mark.parametrize(
    ("name", "key", "count", "predictions"),
    [
        ("sqs.s3-put.json", "input/daily batch.csv", 4, "predictions.csv"),
        ("eventbridge.object-created.json", "input/digits.npy", 5, "predictions.npy"),
        ("distributed-map.item.json", "input/digits.csv", 3, "predictions.csv"),
    ],
)
def test_other_object_deliveries_score_the_object_they_name(
    batch_run: BatchRun, name: str, key: str, count: int, predictions: str
) -> None:
    response = answer(batch_run, name)
    assert summary(batch_run, key)["records"] == {"in": count, "scored": count, "failed": 0}
    assert f"output/{key.removeprefix('input/')}/{predictions}" in batch_run.outputs
    if name.startswith("sqs."):
        assert response == {"batchItemFailures": []}
    else:
        assert response["objects"][0]["records"] == {"in": count, "scored": count, "failed": 0}


def test_sqs_jobs_return_exactly_the_poison_messages_as_batch_item_failures(batch_run: BatchRun) -> None:
    assert answer(batch_run, "sqs.jobs-mixed.json") == {
        "batchItemFailures": [{"itemIdentifier": message_id} for message_id in POISON_IDS]
    }
    assert list(batch_run.results) == ["jobs/job-1.json"]  # job-4 failed and the bad result_uri wrote nothing
    job = json.loads(batch_run.results["jobs/job-1.json"])
    sent = json.loads(load_event("sqs.jobs-mixed")["Records"][0]["body"])["instances"]
    labels = expected_labels(np.asarray(sent, dtype=np.float32))
    assert [prediction["label"] for prediction in job["predictions"]] == labels


def test_schedules_score_only_what_no_event_scored_before(batch_run: BatchRun) -> None:
    first = answer(batch_run, "schedule.scheduled-event.json")
    assert first["scored"] == [f"s3://{INPUT_BUCKET}/input/extra.jsonl"]
    assert first["already_scored"] == 4
    second = answer(batch_run, "schedule.rule-input.json")
    assert second["scored"] == []
    assert second["already_scored"] == 5


def test_batch_log_lines_carry_the_request_id_the_emulator_gave(batch_run: BatchRun) -> None:
    # The trace id is not checked here: the emulator sends no trace header (test_runtime_client_traces.py does).
    for name, request_id in batch_run.request_ids.items():
        mine = [record for record in batch_run.log_records if record.get("function_request_id") == request_id]
        assert mine, f"no log line of {name} carries {request_id}"
        assert {record["function_name"] for record in mine} == {FUNCTION_NAME}
        assert {record["cold_start"] for record in mine} == {name == BATCH_FILES[0]}
