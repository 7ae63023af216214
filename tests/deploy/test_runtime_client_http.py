"""GIVEN the image's own command, `python -m awslambdaric handler.entrypoint.lambda_handler`, run in the
repository root against a fake Lambda Runtime API, without the export-time packages WHEN every HTTP event
file, with an unsupported event among them, is served through one client process THEN every HTTP response
equals what the entry point returns in-process, all from one INIT and under the trace header Lambda sent;
and the unsupported event is an invocation error the warm instance survives."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from handler.local_gateway import LocalContext
from testkit.events import event_files, load_event, response_json
from testkit.runtime_client import Served, serve

Entry = Callable[[dict[str, Any], Any], dict[str, Any]]
HTTP_KINDS = ("http-api-v2.", "rest-v1-stage.", "alb.", "function-url.")
HTTP_FILES = [path.name for path in event_files() if path.name.startswith(HTTP_KINDS)]
UNSUPPORTED = "unsupported.cognito-trigger.json"
# The unsupported event sits among the HTTP ones, so the instance must keep serving after it fails.
HTTP_RUN = [*HTTP_FILES[: len(HTTP_FILES) // 2], UNSUPPORTED, *HTTP_FILES[len(HTTP_FILES) // 2 :]]
# /health "init" values that legitimately differ between the client's process and this one: how long
# each INIT took, and what the Lambda environment decides (AWS_LAMBDA_INITIALIZATION_TYPE, and threads from
# AWS_LAMBDA_FUNCTION_MEMORY_SIZE). The last two are checked on their own below.
INIT_TIMINGS = ("session_ms", "warmup_ms")
PER_PROCESS = (*INIT_TIMINGS, "initialization_type", "threads")


@pytest.fixture(scope="module")
def http_run(default_model: Path) -> Served:
    """Every HTTP event file, and the unsupported one, through one client with default settings."""
    return serve(HTTP_RUN, env={}, timeout_s=30)


@pytest.fixture(scope="module")
def entry(default_model: Path) -> Entry:
    """The entry point in this process, with default settings: the oracle for the client's responses."""
    from handler.entrypoint import lambda_handler  # noqa: PLC0415 - importing it is INIT: it loads the model

    handler: Entry = lambda_handler
    return handler


def content_type(response: dict[str, Any]) -> str | None:
    """The content-type of a Lambda HTTP response, from headers or multiValueHeaders."""
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    multi = {k.lower(): v[0] for k, v in (response.get("multiValueHeaders") or {}).items() if v}
    return headers.get("content-type") or multi.get("content-type")


def comparable_body(response: dict[str, Any]) -> Any:
    """The JSON body (text for HTML), with the per-process INIT values blanked out of /health, and an infer answer's
    id when the server made one up (a new UUID each time)."""
    if not str(content_type(response)).startswith("application/json"):
        return response["body"]
    body = response_json(response)
    if isinstance(body, dict) and isinstance(body.get("init"), dict):
        body["init"] |= dict.fromkeys(PER_PROCESS, "<per process>")
    if isinstance(body, dict) and re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", str(body.get("id"))
    ):
        body["id"] = "<generated>"
    return body


@pytest.mark.parametrize("name", HTTP_FILES)
def test_each_http_event_gets_through_the_client_what_the_entry_point_returns_in_process(
    http_run: Served, entry: Entry, name: str
) -> None:
    post = http_run.posts[name]
    assert post.kind == "response", post.body
    assert post.headers["content-type"] == "application/json"
    expected = entry(load_event(name), LocalContext())
    actual = post.body
    assert actual["statusCode"] == expected["statusCode"]
    assert content_type(actual) == content_type(expected)
    assert actual.get("isBase64Encoded") == expected.get("isBase64Encoded")
    assert comparable_body(actual) == comparable_body(expected)


def test_health_through_the_client_reports_a_lambda_init_with_the_memory_s_threads(http_run: Served) -> None:
    # The two fields of /health that depend on the environment Lambda gives the process, checked here.
    init = response_json(http_run.posts["http-api-v2.health.json"].body)["init"]
    assert init["initialization_type"] == "on-demand"
    assert init["threads"] == min(os.cpu_count() or 1, 2)  # 2048 MB buys two vCPUs (1,769 MB each)
    assert all(isinstance(init[key], float) for key in INIT_TIMINGS)


def test_one_init_serves_every_event_each_under_the_trace_header_lambda_sent(http_run: Served) -> None:
    sent = {(invocation.trace_root, invocation.trace_parent) for invocation in http_run.invocations.values()}
    traced = {(segment["trace_id"], segment["parent_id"]) for segment in http_run.handler_segments}
    assert traced == sent
    cold = [segment for segment in http_run.handler_segments if segment["annotations"]["ColdStart"]]
    first = http_run.invocations[HTTP_RUN[0]]
    assert [segment["trace_id"] for segment in cold] == [first.trace_root]
    assert sum(record.get("message") == "model ready" for record in http_run.log_records) == 1
    assert sum("ColdStart" in record for record in http_run.log_records) == 1  # the EMF cold-start metric


def test_an_unsupported_event_is_an_invocation_error_naming_the_accepted_kinds_and_serving_goes_on(
    http_run: Served, entry: Entry
) -> None:
    from handler.entrypoint import SOURCES  # noqa: PLC0415 - already imported (INIT) by the entry fixture

    post = http_run.posts[UNSUPPORTED]
    assert post.kind == "error"
    assert post.body["errorType"] == "UnsupportedEventError"
    assert post.body["requestId"] == http_run.invocations[UNSUPPORTED].request_id
    message = post.body["errorMessage"]
    assert message.startswith("unrecognised event (an object with keys ['callerContext', 'region', ")
    assert all(source.kind in message for source in SOURCES)
    assert json.loads(post.headers["lambda-runtime-function-xray-error-cause"])["exceptions"][0]["type"] == (
        "UnsupportedEventError"
    )
    after = HTTP_RUN[HTTP_RUN.index(UNSUPPORTED) + 1 :]
    assert after
    assert all(http_run.posts[name].kind == "response" for name in after)
    assert http_run.alive_after  # still waiting on /next: the failure did not end the instance
