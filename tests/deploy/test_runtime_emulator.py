"""GIVEN the image's task root laid out from the Dockerfile's own lines (its model exported under umask 077) and AWS's
Runtime Interface Emulator started on it as the base image's entry point starts it, as Lambda's uid 1051
WHEN every HTTP event file, an unsupported event among them, is posted to the emulator's invocations URL, then a
request that outlasts the function's Timeout, and then a model that cannot load
THEN every answer is the expected one and what the entry point returns in-process, all from one INIT; the
unsupported event is an invocation error the instance survives; the timeout kills the runtime and the next
invoke cold-starts; a failed INIT is a 502 carrying the init error, and INIT is tried again on the next invoke.

The fake Runtime API (test_runtime_client_traces.py) keeps only what the emulator cannot show: it sends no
X-Ray trace header, so what the function does with one is tested there.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnxruntime as ort
import pytest

from handler.http_events import http_api_event
from handler.lambda_instance import LocalContext
from tests.testkit import onnx_models
from tests.testkit.emulator import Emulator, emulator
from tests.testkit.event_answers import HTTP_FILES, check_answer, comparable_body, content_type
from tests.testkit.events import load_event, response_json
from tests.testkit.lambda_base import LAMBDA_USER, Layout
from tests.testkit.paths import DEFAULT_MODEL

Entry = Callable[[dict[str, Any], Any], dict[str, Any]]
NAMES = [path.name for path in HTTP_FILES]
UNSUPPORTED = "unsupported.cognito-trigger.json"
DOCS = "rest-v1-stage.docs.json"  # HTML: compared whole with the in-process answer
RUN = [*NAMES[: len(NAMES) // 2], UNSUPPORTED, *NAMES[len(NAMES) // 2 :], DOCS]
RIE_MEMORY_MB = 3008  # what the emulator tells the function (AWS_LAMBDA_FUNCTION_MEMORY_SIZE)


@dataclass(frozen=True)
class Run:
    """What one emulator answered to each event file of RUN, and everything it printed."""

    answers: dict[str, tuple[int, Any]]
    emulator: Emulator
    runtime_uids: set[int]


def runtime_uids(rie: Emulator) -> set[int]:
    """The real uids of the emulator's child processes (the runtime it started)."""
    uids = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(rie.process.pid):
            uids.add(int(fields["Uid"].split()[0]))
    return uids


@pytest.fixture(scope="module")
def run(layout: Layout) -> Iterator[Run]:
    with emulator(layout, layout.environment()) as rie:
        answers = {name: rie.invoke(load_event(name)) for name in RUN}
        yield Run(answers, rie, runtime_uids(rie))


@pytest.fixture(scope="module")
def entry(default_model: Path) -> Entry:
    from handler.entrypoint import lambda_handler  # noqa: PLC0415 - importing it is INIT: it loads the model

    handler: Entry = lambda_handler
    return handler


@pytest.mark.parametrize("name", NAMES)
def test_each_http_event_gets_its_expected_answer_and_the_in_process_one(run: Run, entry: Entry, name: str) -> None:
    status, answer = run.answers[name]
    assert status == 200, answer
    session = ort.InferenceSession(str(DEFAULT_MODEL), providers=["CPUExecutionProvider"])
    check_answer(name, answer, session)
    expected = entry(load_event(name), LocalContext())
    assert content_type(answer) == content_type(expected)
    assert comparable_body(answer) == comparable_body(expected)


def test_the_docs_page_is_the_in_process_one(run: Run, entry: Entry) -> None:
    status, answer = run.answers[DOCS]
    expected = entry(load_event(DOCS), LocalContext())
    assert (status, answer["statusCode"], content_type(answer)) == (200, 200, content_type(expected))
    assert answer["body"] == expected["body"]


def test_one_init_as_lambda_reports_it_serves_every_event(run: Run) -> None:
    records = run.emulator.log_records()
    assert sum(record.get("message") == "model ready" for record in records) == 1
    assert sum("ColdStart" in record for record in records) == 1  # the EMF cold-start metric
    assert len(run.emulator.lines("INIT START")) == 1
    init = response_json(run.answers["http-api-v2.health.json"][1])["init"]
    assert init["initialization_type"] == "on-demand"
    assert init["threads"] == min(os.cpu_count() or 1, math.ceil(RIE_MEMORY_MB / 1769))


def test_an_unsupported_event_is_an_invocation_error_and_serving_goes_on(run: Run) -> None:
    status, error = run.answers[UNSUPPORTED]
    # The emulator answers 200 with the error document (Lambda's Invoke API adds X-Amz-Function-Error: Unhandled).
    assert status == 200
    assert error["errorType"] == "UnsupportedEventError"
    assert error["errorMessage"].startswith("unrecognised event (an object with keys ['callerContext', ")
    after = RUN[RUN.index(UNSUPPORTED) + 1 :]
    assert after
    assert all(run.answers[name][0] == 200 and "statusCode" in run.answers[name][1] for name in after)


def test_the_runtime_runs_as_lambdas_user_and_reads_a_model_exported_under_umask_077(run: Run, layout: Layout) -> None:
    assert (layout.root / "build-context" / "model.onnx").stat().st_mode & 0o777 == 0o600
    assert (layout.task_root / "models" / "model.onnx").stat().st_mode & 0o777 == 0o644  # COPY --chmod=0644
    if os.geteuid() == 0:
        assert run.runtime_uids == {LAMBDA_USER}
    assert run.answers["http-api-v2.health.json"][0] == 200


def slow_request(steps: int) -> dict[str, Any]:
    body = {"inputs": [{"name": "x", "shape": [1, 256], "datatype": "FP32", "data": [1.0] * 256}]}
    body["inputs"].append({"name": "steps", "shape": [1], "datatype": "INT64", "data": [steps]})
    headers = {"host": "api.example.com", "content-type": "application/json"}
    return http_api_event(
        "POST",
        target="/v2/models/slow/infer",
        headers=headers,
        body=json.dumps(body).encode(),
        stage="$default",
        source_ip="203.0.113.7",
    )


def test_a_request_past_the_timeout_kills_the_runtime_and_the_next_invoke_cold_starts(layout: Layout) -> None:
    model = onnx_models.slow_loop(layout.root / "build-context" / "slow.onnx")
    model.chmod(0o644)
    env = layout.environment(MODEL_PATH=str(model), MODEL_NAME="slow")
    # 3 s, not 1: the emulator counts the first invoke's INIT into its Timeout (Lambda gives INIT its own 10 s).
    with emulator(layout, env, timeout_s=3) as rie:
        assert rie.invoke(slow_request(0))[1]["statusCode"] == 200
        status, timed_out = rie.invoke(slow_request(2_000_000))  # about 14 s of MatMul against a 3 s Timeout
        # The emulator answers in words (Lambda's Invoke API: an error document, errorType Sandbox.Timedout).
        assert (status, timed_out) == (200, "Task timed out after 3.00 seconds")
        status, answer = rie.invoke(slow_request(1))
        assert (status, answer["statusCode"]) == (200, 200)
        assert len(rie.lines("INIT START")) == 2  # a new runtime, a new INIT
        assert sum(record.get("message") == "model ready" for record in rie.log_records()) == 2


def test_a_failed_init_is_a_502_carrying_the_init_error_and_init_is_retried(layout: Layout) -> None:
    missing = layout.root / "build-context" / "missing.onnx"
    with emulator(layout, layout.environment(MODEL_PATH=str(missing))) as rie:
        first = rie.invoke(load_event("http-api-v2.health"))
        second = rie.invoke(load_event("http-api-v2.health"))
        assert first == second
        status, error = first
        assert (status, error["errorType"]) == (502, "ModelLoadError")
        assert error["errorMessage"] == f"MODEL_PATH='{missing}' is not a file: export a model first (make model)"
        failed = [record for record in rie.log_records() if str(record.get("message")).startswith("INIT failed")]
        assert len(failed) == 2  # the runtime started again for the second invoke, and its INIT failed again
