"""Schedules score what has no output yet within the time left; a crash mid-file leaves nothing half
written, and the next delivery completes the output without duplicates."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tests.testkit.aws import Aws, batch_context
from tests.testkit.events import load_event
from tests.testkit.paths import EVENTS
from tests.testkit.process import run_python

Entry = Callable[[dict[str, Any], Any], dict[str, Any]]


def _upload_three(aws: Aws, x: np.ndarray) -> None:
    for name, rows in (("a", x[:3]), ("b", x[3:8]), ("c", x[8:10])):
        aws.put(f"input/{name}.jsonl", "\n".join(json.dumps(r.astype(int).tolist()) for r in rows).encode())


def test_a_schedule_scores_only_what_has_no_output_yet(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    _upload_three(aws, digits[0])
    entry(load_event("s3.put") | {"Records": [_record("input/a.jsonl")]}, batch_context())
    first = entry(load_event("schedule.scheduled-event"), batch_context())
    assert first == {
        "prefix": "s3://onnx-lambda-input/input/",
        "scored": ["s3://onnx-lambda-input/input/b.jsonl", "s3://onnx-lambda-input/input/c.jsonl"],
        "already_scored": 1,
        "skipped": 0,
        "deferred_to_next_run": 0,
        "failed": [],
    }
    second = entry(load_event("schedule.rule-input"), batch_context())
    assert second["scored"] == []
    assert second["already_scored"] == 3


def _record(key: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(json.dumps(load_event("s3.put")["Records"][0]))
    record["s3"]["object"]["key"] = key
    return record


@dataclass
class RunningOutContext:
    """A Lambda context whose time runs out after ``checks`` looks at the clock."""

    checks: int
    aws_request_id: str = "schedule-test"
    function_name: str = "onnx-lambda-batch"
    memory_limit_in_mb: int = 2048
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:onnx-lambda-batch"

    def get_remaining_time_in_millis(self) -> int:
        self.checks -= 1
        return 900_000 if self.checks >= 0 else 1_000


def test_a_schedule_stops_before_its_time_runs_out_and_the_next_run_finishes(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    _upload_three(aws, digits[0])
    short = entry(load_event("schedule.scheduled-event"), RunningOutContext(checks=2))  # one object's worth
    assert short["scored"] == ["s3://onnx-lambda-input/input/a.jsonl"]
    assert short["deferred_to_next_run"] == 2
    assert sorted(aws.objects(prefix="output/")) == [
        f"output/a.jsonl/{n}" for n in ("errors.jsonl", "predictions.jsonl", "summary.json")
    ]
    rest = entry(load_event("schedule.scheduled-event"), batch_context())
    assert rest["scored"] == ["s3://onnx-lambda-input/input/b.jsonl", "s3://onnx-lambda-input/input/c.jsonl"]
    assert rest["already_scored"] == 1


DIE_ON_THIRD_CHUNK = textwrap.dedent(
    """
    import json, os, sys
    import handler.batch.scoring as scoring
    real, calls = scoring.score_chunk, []
    def dying(plane, model, chunk):
        calls.append(1)
        if len(calls) == 3:
            os._exit(137)  # the function dies mid-file, as on an out-of-memory kill
        return real(plane, model, chunk)
    scoring.score_chunk = dying
    from handler.entrypoint import lambda_handler
    from handler.lambda_instance import LocalContext
    lambda_handler(json.load(open(sys.argv[1])), LocalContext(timeout_s=900))
    """
)


def test_a_crash_mid_file_publishes_nothing_and_the_rerun_completes_without_duplicates(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    aws.put("input/digits.jsonl", "\n".join(json.dumps(r.astype(int).tolist()) for r in digits[0][:45]).encode())
    crashed = run_python(DIE_ON_THIRD_CHUNK, str(EVENTS / "s3.put.json"), env={"BATCH_CHUNK_RECORDS": "10"})
    assert crashed.returncode == 137, crashed.stderr[-2000:]
    assert aws.objects(prefix="output/") == {}
    entry(load_event("s3.put"), batch_context())
    rows = [json.loads(line) for line in aws.read("output/digits.jsonl/predictions.jsonl").decode().splitlines()]
    assert [row["record"] for row in rows] == list(range(1, 46))
    assert json.loads(aws.read("output/digits.jsonl/summary.json"))["records"] == {"in": 45, "scored": 45, "failed": 0}
