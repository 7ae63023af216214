"""Transient S3 faults, injected by a flaky proxy between the handler and moto: botocore's retries and the
input stream's resume absorb them, with outputs byte for byte those of a fault-free run; a fault that
outlasts the retries fails the delivery with nothing visible, and the redelivery completes exactly.

The batch path calls SQS only as a trigger (Lambda's poller receives and deletes the messages; the function
answers batchItemFailures), so the SQS scenarios fault the S3 calls that SQS-triggered work makes.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError, IncompleteReadError

from tests.testkit.aws import INPUT_BUCKET, OUTPUT_BUCKET, Aws, batch_context
from tests.testkit.events import load_event
from tests.testkit.flaky_proxy import FaultKind, FlakyProxy, Match, flaky_proxy

Entry = Callable[[dict[str, Any], Any], dict[str, Any]]
Expected = Callable[[np.ndarray], np.ndarray]
CHUNK_RECORDS = 500  # the scorer's chunk size here: every input below is many chunks
OUTPUTS = ("errors.jsonl", "predictions.jsonl", "summary.json")


@dataclass(frozen=True)
class Input:
    """A JSON Lines input of held-out digits with ids; every ``bad_every``-th line is not JSON (a failed record)."""

    key: str
    n: int
    bad_every: int = 0
    id_width: int = 8

    @property
    def bad(self) -> list[int]:
        return [record for record in range(1, self.n + 1) if self.bad_every and record % self.bad_every == 0]

    @property
    def base(self) -> str:
        return "output/" + self.key.removeprefix("input/") + "/"

    def line(self, record: int, x: np.ndarray) -> str:
        if self.bad_every and record % self.bad_every == 0:
            return "not json"
        return json.dumps({"id": f"{record:0{self.id_width}d}", "instance": x[(record - 1) % len(x)].tolist()})

    def event(self) -> dict[str, Any]:
        """The S3 notification for this object."""
        event = load_event("s3.put")
        event["Records"][0]["s3"]["object"]["key"] = self.key
        return event


DIGITS = Input("input/digits.jsonl", n=7200, bad_every=900)  # 1.6 MB: more than one 1 MiB read, 15 chunks
WIDE = Input("input/wide.jsonl", n=6000, id_width=1500)  # 11 MB of predictions: a multipart upload of 2 parts
GET_INPUT = Match("GET", path="/input/digits.jsonl")
OUTPUT_PUTS = Match("PUT", path="/output/")


def sqs_event(messages: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What Lambda's SQS poller hands the function: message id -> JSON body."""
    common = {"attributes": {}, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs"}
    arn = {"eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:onnx-lambda-jobs", "awsRegion": "us-east-1"}
    return {
        "Records": [
            {"messageId": message_id, "receiptHandle": message_id, "body": json.dumps(body)} | common | arn
            for message_id, body in messages.items()
        ]
    }


@dataclass
class Rig:
    """The handler behind the flaky proxy, moto straight (for setup and checks), and what is expected."""

    aws: Aws
    proxy: FlakyProxy
    entry: Entry
    x: np.ndarray
    expected: Expected
    add_figures: Callable[..., None]

    def put(self, *inputs: Input) -> None:
        for inp in inputs:
            self.aws.put(inp.key, "".join(inp.line(r, self.x) + "\n" for r in range(1, inp.n + 1)).encode())

    def run(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.entry(event, batch_context())

    def outputs(self, inp: Input) -> dict[str, bytes]:
        """Predictions and errors (the summary holds timings, which differ from run to run)."""
        return {name: self.aws.read(inp.base + name) for name in OUTPUTS[:2]}

    def check(self, inp: Input) -> dict[str, int]:
        """Exactly the three outputs; every record once, in order, scored as onnxruntime scores it, or failed."""
        assert sorted(self.aws.objects(prefix=inp.base)) == [inp.base + name for name in OUTPUTS]
        rows = [json.loads(line) for line in self.aws.read(inp.base + "predictions.jsonl").splitlines()]
        bad = set(inp.bad)
        good = [record for record in range(1, inp.n + 1) if record not in bad]
        assert [row["record"] for row in rows] == good
        assert [row["id"] for row in rows] == [f"{record:0{inp.id_width}d}" for record in good]
        probabilities = self.expected(self.x[[(record - 1) % len(self.x) for record in good]])
        assert [row["label"] for row in rows] == [str(label) for label in probabilities.argmax(axis=1)]
        np.testing.assert_allclose([list(row["probabilities"].values()) for row in rows], probabilities, rtol=1e-6)
        errors = [json.loads(line)["record"] for line in self.aws.read(inp.base + "errors.jsonl").splitlines()]
        assert errors == inp.bad
        records: dict[str, int] = json.loads(self.aws.read(inp.base + "summary.json"))["records"]
        assert records == {"in": inp.n, "scored": len(good), "failed": len(inp.bad)}
        return records

    def nothing_published(self) -> None:
        """No output object, and no multipart upload left behind (its parts would be billed, unseen)."""
        assert self.aws.objects(prefix="output/") == {}
        assert self.aws.s3.list_multipart_uploads(Bucket=INPUT_BUCKET).get("Uploads", []) == []

    def report(self, scenario: str, records: dict[str, int]) -> None:
        """One line of figures from the summary's records; retries = botocore's attempts 2+ and the GETs of an
        input that followed a body cut off (resumes, and the redelivery's read after the last one)."""
        gets = self.proxy.seen(Match("GET", path="/input/"))
        resumed = sum(1 for before, _ in itertools.pairwise(gets) if before.fault == "truncate")
        retries = self.proxy.retries() + resumed
        self.add_figures(
            scenario=scenario,
            injected=self.proxy.injected(),
            retries=retries,
            records_in=records["in"],
            scored=records["scored"],
            failed=records["failed"],
        )

    def ranges(self, match: Match) -> list[str]:
        """The Range headers of the matching requests (S3Object asks for bytes=0- first, then resumes)."""
        return [request.headers["range"] for request in self.proxy.seen(match) if "range" in request.headers]


@pytest.fixture(scope="module", autouse=True)
def chunked(entry: Entry) -> Iterator[None]:
    """The deployed function with BATCH_CHUNK_RECORDS=500, so faults fall between chunks of a file."""
    from handler.entrypoint import RUNTIME  # noqa: PLC0415 - the entry fixture imported it (INIT)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RUNTIME.batch, "settings", RUNTIME.settings.model_copy(update={"batch_chunk_records": 500}))
        yield


@pytest.fixture
def flaky(aws: Aws) -> Iterator[FlakyProxy]:
    """The proxy in front of moto, for the handler only: its cached S3 client is dropped so the next one is
    built on the proxy's endpoint, and dropped again afterwards so later tests reach moto directly."""
    from handler.batch.store import default_store  # noqa: PLC0415

    saved = os.environ["AWS_ENDPOINT_URL"]
    with flaky_proxy(aws.url) as proxy:
        os.environ["AWS_ENDPOINT_URL"] = proxy.url
        default_store.cache_clear()
        try:
            yield proxy
        finally:
            os.environ["AWS_ENDPOINT_URL"] = saved
            default_store.cache_clear()


@pytest.fixture
def rig(aws: Aws, flaky: FlakyProxy, entry: Entry, truth: tuple[np.ndarray, Expected], fault_report: Any) -> Rig:
    return Rig(aws, flaky, entry, truth[0], truth[1], fault_report)


@pytest.fixture(scope="module")
def truth(digits: tuple[np.ndarray, np.ndarray], expected_probabilities: Expected) -> tuple[np.ndarray, Expected]:
    """The held-out digits as integers (what a JSON Lines file holds) and onnxruntime's own answers."""
    return digits[0].astype(int), expected_probabilities


@pytest.fixture(scope="module")
def baseline(moto: Aws, entry: Entry, truth: tuple[np.ndarray, Expected]) -> dict[str, bytes]:
    """DIGITS' outputs from a fault-free run straight to moto: what every faulty run must reproduce."""
    moto.empty_buckets()
    rig = Rig(moto, FlakyProxy("", None), entry, truth[0], truth[1], print)  # type: ignore[arg-type]
    rig.put(DIGITS)
    rig.run(DIGITS.event())
    rig.check(DIGITS)
    return rig.outputs(DIGITS)


@pytest.mark.parametrize(
    ("scenario", "planned"),
    [
        ("S3 SlowDown on the input's GET", ("slowdown", GET_INPUT, 2)),
        ("S3 InternalError on the output PUTs", ("internal", OUTPUT_PUTS, 3)),
        ("connections dropped on the HEAD and the GET", ("drop", Match(path="/input/digits.jsonl"), 3)),
        ("the input's body cut off mid-file", ("truncate", GET_INPUT, 3)),
    ],
)
def test_a_transient_s3_fault_is_retried_and_the_outputs_are_those_of_a_fault_free_run(
    rig: Rig, baseline: dict[str, bytes], scenario: str, planned: tuple[FaultKind, Match, int]
) -> None:
    kind, match, times = planned
    rig.put(DIGITS)
    fault = rig.proxy.fail(kind, match, times=times)
    rig.run(DIGITS.event())
    assert fault.times == 0, "every planned fault was injected"
    records = rig.check(DIGITS)
    assert rig.outputs(DIGITS) == baseline
    assert rig.proxy.injected() == times
    rig.report(scenario, records)
    if kind == "truncate":  # resumed where each break left off, not from the start
        resumed = [range_ for range_ in rig.ranges(GET_INPUT) if range_ != "bytes=0-"]
        assert len(resumed) == times, resumed
    else:
        assert rig.proxy.retries() >= times


def test_a_multipart_upload_whose_parts_fail_is_retried_part_by_part(rig: Rig) -> None:
    rig.put(WIDE)
    rig.proxy.fail("internal", Match("PUT", path="/output/wide.jsonl/predictions.jsonl", query="partNumber="), 2)
    rig.proxy.fail("drop", Match("POST", path="/output/wide.jsonl/predictions.jsonl", query="uploadId="), 1)
    rig.run(WIDE.event())
    records = rig.check(WIDE)
    parts = {r.query for r in rig.proxy.seen(Match("PUT", query="partNumber=")) if r.fault is None}
    assert len(parts) == 2, "two 8 MiB-or-less parts, each uploaded once successfully"
    assert rig.proxy.injected() == 3
    rig.report("multipart part PUTs failing, and the completing POST dropped", records)


def test_an_outage_longer_than_the_retries_fails_the_delivery_with_nothing_visible_and_the_retry_is_exact(
    rig: Rig, baseline: dict[str, bytes]
) -> None:
    rig.put(DIGITS)
    rig.proxy.fail("internal", OUTPUT_PUTS, times=None)
    gave_up = r"InternalError\) when calling the PutObject operation \(reached max retries: 4\)"
    with pytest.raises(ClientError, match=gave_up):
        rig.run(DIGITS.event())
    rig.nothing_published()
    injected = rig.proxy.injected()
    assert injected >= 5, "botocore's five attempts, at least, before giving up"
    rig.proxy.heal()
    rig.run(DIGITS.event())  # the S3 trigger's own retry (async invocation) once S3 recovered
    records = rig.check(DIGITS)
    assert rig.outputs(DIGITS) == baseline
    rig.report("S3 PUTs down past the retries, then the trigger's retry", records)


def test_a_body_that_keeps_breaking_fails_the_file_and_the_redelivery_scores_it_exactly(
    rig: Rig, baseline: dict[str, bytes]
) -> None:
    rig.put(DIGITS)
    rig.proxy.fail("truncate", GET_INPUT, times=None, keep_fraction=0.0)
    with pytest.raises(IncompleteReadError, match="0 read, but total bytes expected is"):
        rig.run(DIGITS.event())
    rig.nothing_published()
    rig.proxy.heal()
    rig.run(DIGITS.event())
    records = rig.check(DIGITS)
    assert rig.outputs(DIGITS) == baseline
    rig.report("the input's body breaking past the resumes, then the retry", records)


def test_sqs_jobs_whose_result_puts_fail_come_back_as_batch_item_failures_and_succeed_when_redelivered(
    rig: Rig, aws: Aws
) -> None:
    jobs = {
        f"job-{n}": {
            "instances": rig.x[n * 3 : n * 3 + 3].tolist(),
            "result_uri": f"s3://{OUTPUT_BUCKET}/jobs/{n}.json",
        }
        for n in range(4)
    }
    rig.proxy.fail("slowdown", Match("PUT", path="/jobs/0.json"), times=2)  # transient: retried within the call
    rig.proxy.fail("internal", Match("PUT", path="/jobs/3.json"), times=None)  # down past the retries
    first = rig.run(sqs_event(jobs))
    assert first == {"batchItemFailures": [{"itemIdentifier": "job-3"}]}
    assert sorted(aws.objects(OUTPUT_BUCKET)) == [f"jobs/{n}.json" for n in range(3)]
    rig.proxy.heal()
    assert rig.run(sqs_event({"job-3": jobs["job-3"]})) == {"batchItemFailures": []}  # the queue's redelivery
    for n in range(4):
        labels = [p["label"] for p in json.loads(aws.read(f"jobs/{n}.json", bucket=OUTPUT_BUCKET))["predictions"]]
        expected = rig.expected(rig.x[n * 3 : n * 3 + 3]).argmax(axis=1)
        assert labels == [str(label) for label in expected]
    rig.report("SQS jobs: result PUTs throttled, one down past the retries", {"in": 12, "scored": 12, "failed": 0})


def test_an_upload_notification_through_sqs_survives_a_dropped_read_and_the_totals_are_exact(
    rig: Rig, baseline: dict[str, bytes]
) -> None:
    rig.put(DIGITS)
    rig.proxy.fail("drop", GET_INPUT, times=2)
    rig.proxy.fail("truncate", GET_INPUT, times=1, keep_fraction=0.3)
    response = rig.run(sqs_event({"upload-1": DIGITS.event()}))
    assert response == {"batchItemFailures": []}
    records = rig.check(DIGITS)
    assert rig.outputs(DIGITS) == baseline
    assert rig.proxy.injected() == 3
    rig.report("S3 notification via SQS: GETs dropped and cut off", records)
