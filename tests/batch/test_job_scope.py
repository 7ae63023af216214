"""SQS inference jobs only inside the caller's scope, through the real entry point against moto: result_uri may
only name the jobs' result prefix (a forged summary used to make re-deliveries answer "already scored"), a job
asking for binary outputs is answered as JSON, and a refused job is logged without its values. Each case
failed on the main of issue 15."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from tests.testkit.aws import INPUT_BUCKET, OUTPUT_BUCKET, Aws, batch_context
from tests.testkit.batch_inputs import digit_lines, published, s3_event
from tests.testkit.events import load_event

Entry = Callable[[dict[str, Any], Any], dict[str, Any]]
MARKER = "marker-7c1e"  # in every refused result_uri: it must not reach the log at INFO


def jobs_event(*bodies: dict[str, Any]) -> dict[str, Any]:
    """SQS records of the jobs queue (events/sqs.jobs-mixed.json's first record) with these bodies."""
    template = load_event("sqs.jobs-mixed")["Records"][0]
    records = [template | {"messageId": f"job-{n}", "body": json.dumps(body)} for n, body in enumerate(bodies)]
    return {"Records": records}


FORGERIES = [
    f"s3://{INPUT_BUCKET}/output/digits.jsonl/summary.json",  # a published summary, beside the inputs
    f"s3://{OUTPUT_BUCKET}/output/{MARKER}.json",  # the output bucket, outside jobs/
    f"s3://{INPUT_BUCKET}/input/{MARKER}.jsonl",  # an input: it would be scored
    f"s3://{OUTPUT_BUCKET}/jobs/../output/{MARKER}.json",  # dot segments
    f"s3://{OUTPUT_BUCKET}/jobs/",  # the prefix itself
    f"s3://Bad_Bucket_{MARKER}/jobs/x.json",  # a bucket name boto3 refuses
    f"s3://{OUTPUT_BUCKET}/jobs/{MARKER}\u0001.json",  # a control character
    f"s3://{OUTPUT_BUCKET}-{MARKER}/jobs/x.json",  # another bucket
]


def test_a_job_cannot_write_outside_the_jobs_prefix_so_published_outputs_cannot_be_forged(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray], caplog: pytest.LogCaptureFixture
) -> None:
    aws.put("input/digits.jsonl", b"\n".join(digit_lines(digits[0][:3])) + b"\n")
    entry(s3_event("input/digits.jsonl"), batch_context())
    before = {key: aws.read(key) for key in aws.objects(prefix="output/")}
    caplog.clear()
    instance = digits[0][0].astype(int).tolist()
    response = entry(jobs_event(*({"instances": [instance], "result_uri": uri} for uri in FORGERIES)), batch_context())
    assert response == {"batchItemFailures": [{"itemIdentifier": f"job-{n}"} for n in range(len(FORGERIES))]}
    assert {key: aws.read(key) for key in aws.objects(prefix="output/")} == before
    assert list(aws.objects(OUTPUT_BUCKET)) == []
    assert published(aws, "input/digits.jsonl")[2]["records"] == {"in": 3, "scored": 3, "failed": 0}
    reasons = [getattr(r, "reason", None) for r in caplog.records if r.getMessage() == "inference job failed"]
    assert reasons == [f"'result_uri' is outside the jobs' results; expected s3://{OUTPUT_BUCKET}/jobs/<name>"] * 8
    assert [r for r in caplog.records if MARKER in r.getMessage() + json.dumps(vars(r), default=str)] == []


def test_a_job_asking_for_binary_outputs_is_answered_as_json_and_its_message_succeeds(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray], expected_probabilities: Callable[..., Any]
) -> None:
    tensor = {"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32", "data": digits[0][0].ravel().tolist()}
    body = {
        "inputs": [tensor],
        "outputs": [{"name": "probabilities", "parameters": {"binary_data": True}}],
        "parameters": {"binary_data_output": True},
        "result_uri": f"s3://{OUTPUT_BUCKET}/jobs/binary.json",
    }
    response = entry(jobs_event(body), batch_context())
    assert response == {"batchItemFailures": []}
    answer = json.loads(aws.read("jobs/binary.json", bucket=OUTPUT_BUCKET))
    [output] = answer["outputs"]
    assert output["name"] == "probabilities"
    np.testing.assert_allclose(output["data"], expected_probabilities(digits[0][:1]).ravel(), rtol=1e-6)
