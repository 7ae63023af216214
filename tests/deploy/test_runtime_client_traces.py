"""GIVEN the image's own command, `python -m awslambdaric handler.entrypoint.lambda_handler`, run against a fake
Lambda Runtime API that sends X-Ray trace headers as Lambda does WHEN every HTTP event file, with an unsupported
event among them, is served through one client process THEN each invocation is traced under the trace header
Lambda sent, the cold start once, and the unsupported event's error carries the X-Ray error cause.

Only this stays on the fake: AWS's runtime emulator (test_runtime_emulator.py, which serves the same files and
checks every answer) sends no Lambda-Runtime-Trace-Id header and reads no X-Ray error cause, so what the function
does with them can only be seen here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.testkit.event_answers import HTTP_FILES
from tests.testkit.runtime_client import Served, serve

NAMES = [path.name for path in HTTP_FILES]
UNSUPPORTED = "unsupported.cognito-trigger.json"
# The unsupported event sits among the HTTP ones, so the instance must keep serving after it fails.
HTTP_RUN = [*NAMES[: len(NAMES) // 2], UNSUPPORTED, *NAMES[len(NAMES) // 2 :]]


@pytest.fixture(scope="module")
def http_run(default_model: Path) -> Served:
    """Every HTTP event file, and the unsupported one, through one client with default settings."""
    return serve(HTTP_RUN, env={}, timeout_s=30)


def test_one_init_serves_every_event_each_under_the_trace_header_lambda_sent(http_run: Served) -> None:
    sent = {(invocation.trace_root, invocation.trace_parent) for invocation in http_run.invocations.values()}
    traced = {(segment["trace_id"], segment["parent_id"]) for segment in http_run.handler_segments}
    assert traced == sent
    cold = [segment for segment in http_run.handler_segments if segment["annotations"]["ColdStart"]]
    first = http_run.invocations[HTTP_RUN[0]]
    assert [segment["trace_id"] for segment in cold] == [first.trace_root]
    assert all(http_run.posts[name].kind == "response" for name in NAMES)


def test_an_unsupported_events_error_carries_its_xray_error_cause(http_run: Served) -> None:
    post = http_run.posts[UNSUPPORTED]
    assert (post.kind, post.body["errorType"]) == ("error", "UnsupportedEventError")
    assert post.body["requestId"] == http_run.invocations[UNSUPPORTED].request_id
    cause = json.loads(post.headers["lambda-runtime-function-xray-error-cause"])
    assert cause["exceptions"][0]["type"] == "UnsupportedEventError"
    assert http_run.alive_after  # still waiting on /next: the failure did not end the instance
