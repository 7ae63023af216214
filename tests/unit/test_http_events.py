"""GIVEN API Gateway events (HTTP API 2.0, REST API v1 behind a stage) and a tiny ASGI app behind Mangum WHEN events
are built, read and answered THEN the synthesised event is the one API Gateway would send, the stage becomes the
app's root_path, an event Mangum cannot read is a JSON 400 saying what is wrong, and an answer larger than Lambda can
return is a 413 saying how large it would have been."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

import pytest
from mangum import Mangum

from handler.answers import LAMBDA_RESPONSE_BYTES, lambda_payload_bytes, oversized
from handler.http_events import (
    EventAdapter,
    StagedHttpApi,
    StagedRestApi,
    http_api_event,
    unreadable_event,
)
from tests.testkit.events import load_event

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Scope]]
Send = Callable[[Scope], Awaitable[None]]
NO_CONTEXT: Any = None  # what Mangum passes on as aws.context; nothing here reads it
BAD_HOST = "cannot be read: expected a host name or IPv4 address, optionally followed by ':' and a port number"


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers JSON of where the request went; ``?size=N`` answers N bytes of text instead."""
    size = parse_qs(scope["query_string"].decode()).get("size")
    if size:
        body, content_type = b"x" * int(size[0]), b"text/plain"
    else:
        request = await receive()
        seen = {"root_path": scope["root_path"], "path": scope["path"], "body": request.get("body", b"").decode()}
        body, content_type = json.dumps(seen).encode(), b"application/json"
    await send({"type": "http.response.start", "status": 200, "headers": [[b"content-type", content_type]]})
    await send({"type": "http.response.body", "body": body})


def mangum() -> Mangum:
    return Mangum(echo, lifespan="off", custom_handlers=[StagedRestApi, StagedHttpApi])


def adapter() -> EventAdapter:
    return EventAdapter(mangum())


def event(target: str = "/health", *, body: bytes = b"", stage: str = "$default", **headers: str) -> dict[str, Any]:
    return http_api_event(
        "POST", target=target, headers={"host": "api.test", **headers}, body=body, stage=stage, source_ip="10.0.0.7"
    )


def test_a_json_request_becomes_a_payload_2_event_with_its_body_as_text() -> None:
    built = http_api_event(
        "POST",
        target="/prod/predict?top_k=2&x=1",
        headers={"host": "api.test", "content-type": "application/json", "user-agent": "curl/8"},
        body=b'{"instances": [[1, 2]]}',
        stage="prod",
        source_ip="10.0.0.7",
    )
    assert (built["version"], built["routeKey"], built["rawPath"], built["rawQueryString"]) == (
        "2.0",
        "$default",
        "/prod/predict",
        "top_k=2&x=1",
    )
    assert (built["body"], built["isBase64Encoded"]) == ('{"instances": [[1, 2]]}', False)
    context = built["requestContext"]
    assert context["http"] == {
        "method": "POST",
        "path": "/prod/predict",
        "protocol": "HTTP/1.1",
        "sourceIp": "10.0.0.7",
        "userAgent": "curl/8",
    }
    assert (context["stage"], context["domainName"]) == ("prod", "api.test")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("application/octet-stream", b"\x00\x01\xfe\xff"), ("application/json", b"\xff not utf-8")],
    ids=["binary", "text-type-but-not-utf-8"],
)
def test_a_body_that_is_not_utf_8_text_travels_as_base64(content_type: str, body: bytes) -> None:
    built = http_api_event(
        "PUT", target="/x", headers={"content-type": content_type}, body=body, stage="$default", source_ip="1.1.1.1"
    )
    assert built["isBase64Encoded"] is True
    assert base64.b64decode(built["body"]) == body


def test_an_empty_request_has_no_body_and_defaults_for_what_its_headers_do_not_say() -> None:
    built = http_api_event("GET", target="/health", headers={}, body=b"", stage="$default", source_ip="1.1.1.1")
    assert "body" not in built
    assert built["isBase64Encoded"] is False
    assert built["requestContext"]["domainName"] == "127.0.0.1"
    assert built["requestContext"]["http"]["userAgent"] == ""
    again = http_api_event("GET", target="/health", headers={}, body=b"", stage="$default", source_ip="1.1.1.1")
    assert again["requestContext"]["requestId"] != built["requestContext"]["requestId"]


def test_the_payload_size_counts_utf_8_bytes_not_characters_and_takes_lone_surrogates() -> None:
    assert lambda_payload_bytes({"body": "é€"}) == len('{"body": "') + 2 + 3 + len('"}')
    assert lambda_payload_bytes({"body": "\ud800"}) == len('{"body": "') + 3 + len('"}')


def test_an_answer_is_oversized_only_past_lambdas_limit_and_small_bodies_are_never_measured() -> None:
    overhead = lambda_payload_bytes({"statusCode": 200, "body": ""})
    at_limit = {"statusCode": 200, "body": "x" * (LAMBDA_RESPONSE_BYTES - overhead)}
    assert lambda_payload_bytes(at_limit) == LAMBDA_RESPONSE_BYTES
    assert oversized(at_limit) is None
    over = {"statusCode": 200, "body": "x" * (LAMBDA_RESPONSE_BYTES - overhead + 1)}
    assert oversized(over) == LAMBDA_RESPONSE_BYTES + 1
    assert oversized({"statusCode": 200, "body": None}) is None
    assert oversized({"statusCode": 200}) is None


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"isBase64Encoded": True, "body": "abc"},
            "the event's body is flagged isBase64Encoded but is not valid base64: expected the body in base64",
        ),
        ({"isBase64Encoded": True, "body": base64.b64encode(b"fine").decode()}, None),
        ({"isBase64Encoded": False, "body": "abc"}, None),
        ({"headers": {"Host": "a:b:c"}}, f"the Host header 'a:b:c' {BAD_HOST}"),
        ({"headers": {"host": "api.test:https"}}, f"the Host header 'api.test:https' {BAD_HOST}"),
        ({"headers": {"host": "api.test:8443"}}, None),
        ({"multiValueHeaders": {"Host": ["one:1", "two:2"]}}, f"the Host header 'one:1, two:2' {BAD_HOST}"),
        ({"headers": {"host": "h:" + "9" * 200 + "x"}}, "the Host header 'h:" + "9" * 78 + f"' {BAD_HOST}"),
        (
            {"headers": {"host": "api.test", "x-forwarded-port": "x"}},
            "the X-Forwarded-Port header 'x' cannot be read: expected a port number",
        ),
        ({"headers": {"host": "api.test", "x-forwarded-port": "443"}}, None),
    ],
    ids=[
        "bad-base64",
        "good-base64",
        "not-flagged",
        "two-colons",
        "named-port",
        "port",
        "multi-value",
        "long-host",
        "bad-forwarded-port",
        "forwarded-port",
    ],
)
def test_what_mangum_cannot_read_in_an_event_is_said_for_the_client(
    change: dict[str, Any], problem: str | None
) -> None:
    assert unreadable_event({**event(), **change}) == problem


@pytest.mark.parametrize(
    ("stage", "target", "root_path", "path"),
    [
        ("prod", "/prod/health", "/prod", "/prod/health"),
        ("prod", "/prod", "/prod", "/prod"),
        ("$default", "/health", "", "/health"),
        ("prod", "/health", "", "/health"),  # a custom domain maps the stage away
        ("prod", "/production/health", "", "/production/health"),
    ],
)
def test_a_named_http_api_stage_in_the_path_becomes_the_apps_root_path(
    stage: str, target: str, root_path: str, path: str
) -> None:
    answer = adapter()(event(target, stage=stage), NO_CONTEXT)
    assert answer["statusCode"] == 200
    seen = json.loads(answer["body"])
    assert (seen["root_path"], seen["path"]) == (root_path, path)


@pytest.mark.parametrize(
    ("outer", "inner", "root_path", "path"),
    [
        ("/prod/health", "/health", "/prod", "/prod/health"),
        ("/health", "/health", "", "/health"),  # a custom domain: no stage in the client's URL
        ("/prod/", "/", "/prod", "/prod/"),
        (None, "/health", "", "/health"),
    ],
)
def test_a_rest_api_stage_is_the_client_path_minus_the_resource_path(
    outer: str | None, inner: str, root_path: str, path: str
) -> None:
    rest = load_event("rest-v1-stage.health")
    rest["path"] = inner
    rest["requestContext"]["path"] = outer
    answer = adapter()(rest, NO_CONTEXT)
    assert answer["statusCode"] == 200
    seen = json.loads(answer["body"])
    assert (seen["root_path"], seen["path"]) == (root_path, path)


def test_a_body_flagged_base64_that_is_not_is_a_json_400_not_a_failed_invocation() -> None:
    answer = adapter()({**event("/predict"), "isBase64Encoded": True, "body": "abc"}, NO_CONTEXT)
    assert answer["statusCode"] == 400
    assert answer["headers"]["content-type"] == "application/json"
    assert json.loads(answer["body"]) == {
        "error": "the event's body is flagged isBase64Encoded but is not valid base64: expected the body in base64"
    }


def test_a_rest_api_event_with_an_unreadable_host_gets_its_400_in_the_rest_apis_response_format() -> None:
    rest = load_event("rest-v1-stage.health")
    rest["multiValueHeaders"]["Host"] = ["evil:host:1"]
    answer = adapter()(rest, NO_CONTEXT)
    assert answer["statusCode"] == 400
    assert "multiValueHeaders" in answer  # the v1 format, as API Gateway's REST API expects it
    assert answer["isBase64Encoded"] is False
    assert json.loads(answer["body"]) == {"error": f"the Host header 'evil:host:1' {BAD_HOST}"}


def test_an_event_whose_forwarded_port_is_not_a_number_gets_a_400_saying_so_not_a_failed_invocation() -> None:
    hostile = event()
    hostile["headers"] = {**hostile.get("headers", {}), "host": "api.test", "x-forwarded-port": "not-a-port"}
    answer = adapter()(hostile, NO_CONTEXT)
    assert answer["statusCode"] == 400
    expected = "the X-Forwarded-Port header 'not-a-port' cannot be read: expected a port number"
    assert json.loads(answer["body"]) == {"error": expected}


def test_an_answer_lambda_could_not_return_is_a_413_saying_its_size_and_a_smaller_one_passes_whole() -> None:
    small = adapter()(event("/big?size=1000"), NO_CONTEXT)
    assert (small["statusCode"], small["body"]) == (200, "x" * 1000)
    big = event(f"/big?size={LAMBDA_RESPONSE_BYTES}")
    size = lambda_payload_bytes(mangum()(big, NO_CONTEXT))
    answer = adapter()(big, NO_CONTEXT)
    assert answer["statusCode"] == 413
    refusal = json.loads(answer["body"])
    assert (refusal["limit_bytes"], refusal["answer_bytes"]) == (LAMBDA_RESPONSE_BYTES, size)
    assert refusal["error"].startswith(f"the answer would be {size} bytes as Lambda returns it, over its limit of ")
    assert "score them on the batch path" in refusal["error"]


def test_a_value_error_that_is_not_about_the_event_is_not_turned_into_a_400() -> None:
    class Failing(Mangum):
        def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
            raise ValueError("a fault of the app's own")

    failing = EventAdapter(Failing(echo, lifespan="off"))
    with pytest.raises(ValueError, match="a fault of the app's own"):
        failing(event(), NO_CONTEXT)
