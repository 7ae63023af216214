"""GIVEN requests and hand-built events that Lambda or API Gateway would turn into a 5xx WHEN they go through the
real entry point (or the real local server) THEN each gets a clear answer: answers Lambda could not return are a
413 saying so, measured as Lambda's runtime encodes them; echoed values in errors are bounded; events whose
fields have the wrong types raise MalformedEventError; a trailing slash is served, never redirected by Host.
Each case failed on the main of issue 15."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from handler.answers import LAMBDA_RESPONSE_BYTES, lambda_payload_bytes
from handler.dispatch import MalformedEventError
from handler.errors import MAX_MESSAGE_CHARS
from handler.lambda_instance import GatewayAnswer, LocalContext, gateway_answer
from onnx_lambda.local_gateway import GatewayServer
from tests.testkit.events import load_event, response_json
from tests.testkit.server import LocalServer, local_server

Entry = Callable[[dict[str, Any], Any], dict[str, Any]]
PIXELS = [0.0] * 64


@pytest.fixture(scope="module")
def entry() -> Entry:
    """handler.entrypoint.lambda_handler; importing it is INIT."""
    from handler.entrypoint import lambda_handler  # noqa: PLC0415

    return lambda_handler


def http_event(body: dict[str, Any] | str, path: str = "/v2/models/digits-cnn/infer") -> dict[str, Any]:
    """events/http-api-v2.infer.json carrying another body to another path."""
    event = load_event("http-api-v2.infer")
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    event["isBase64Encoded"] = False
    return event


def oip(request_id: str, *, binary: bool) -> dict[str, Any]:
    tensor = {"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32", "data": PIXELS}
    outputs = [{"name": "probabilities", "parameters": {"binary_data": binary}}]
    return {"id": request_id, "inputs": [tensor], "outputs": outputs}


ANSWERS_TOO_BIG = {
    # 4.8 million characters echoed back in a binary answer: 6.4 MB once base64'd
    "binary-answer-with-a-4.8M-id": oip("i" * 4_800_000, binary=True),
    # 3.2 MB of body that Lambda's JSON encoding doubles: each \" of the answer becomes \\\"
    "json-answer-that-escaping-doubles": oip('"' * 1_600_000, binary=False),
}


@pytest.mark.parametrize("case", ANSWERS_TOO_BIG)
def test_an_answer_lambda_could_not_return_is_a_413_saying_how_big_it_would_be(entry: Entry, case: str) -> None:
    answer = entry(http_event(ANSWERS_TOO_BIG[case]), LocalContext())
    assert lambda_payload_bytes(answer) < 4096  # what API Gateway gets: small, and well under the limit
    assert answer["statusCode"] == 413
    body = response_json(answer)
    assert body["limit_bytes"] == LAMBDA_RESPONSE_BYTES == 6_291_456
    assert body["answer_bytes"] > LAMBDA_RESPONSE_BYTES
    assert body["error"].startswith(f"the answer would be {body['answer_bytes']} bytes as Lambda returns it")


def test_an_answer_just_under_the_limit_is_returned_whole(entry: Entry) -> None:
    answer = entry(http_event(oip("i" * 4_000_000, binary=True)), LocalContext())  # 5.3 MB once base64'd
    assert answer["statusCode"] == 200
    assert 5_000_000 < lambda_payload_bytes(answer) <= LAMBDA_RESPONSE_BYTES


ECHOING_ERRORS = {
    "input-name": oip("a", binary=False)
    | {"inputs": [{"name": "n" * 2_000_000, "shape": [1], "datatype": "FP32", "data": [0]}]},
    "shape": oip("a", binary=False)
    | {"inputs": [{"name": "input", "shape": [-1] * 600_000, "datatype": "FP32", "data": [0]}]},
    "model-name": oip("a", binary=False),
    "unknown-keys": {f"key{n}" * 100: n for n in range(20_000)},
}


@pytest.mark.parametrize("case", ECHOING_ERRORS)
def test_an_error_quoting_what_the_client_sent_stays_small(entry: Entry, case: str) -> None:
    path = f"/v2/models/{'m' * 20_000}/infer" if case == "model-name" else "/v2/models/digits-cnn/infer"
    answer = entry(http_event(ECHOING_ERRORS[case], path), LocalContext())
    assert 400 <= answer["statusCode"] < 500
    error = response_json(answer)["error"]
    assert len(error) <= MAX_MESSAGE_CHARS + 60
    assert lambda_payload_bytes(answer) < 4096


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mistake(event: dict[str, Any]) -> None:
        event[path] = value

    return mistake


MALFORMED = {
    "cookies-not-strings": ("http-api-v2.predict", _set("cookies", [1]), "'cookies' must be a list of strings"),
    "raw-query-string-a-number": (
        "http-api-v2.predict",
        _set("rawQueryString", 5),
        "'rawQueryString' must be a string",
    ),
    "query-parameters-a-string": (
        "rest-v1-stage.predict",
        _set("queryStringParameters", "x"),
        "'queryStringParameters' must be an object whose values are strings",
    ),
    "multi-value-headers-not-strings": (
        "rest-v1-stage.predict",
        _set("multiValueHeaders", {"accept": [1, 2]}),
        "'multiValueHeaders' must be an object whose values are lists of strings",
    ),
    "alb-query-value-a-number": (
        "alb.predict",
        _set("queryStringParameters", {"verbose": 1}),
        "'queryStringParameters' must be an object whose values are strings",
    ),
    "lone-surrogate-in-body": ("http-api-v2.predict", _set("body", '{"instances": "\ud800"}'), "lone surrogate"),
    "lone-surrogate-in-header": (
        "http-api-v2.predict",
        _set("headers", {"content-type": "application/json", "x-name": "\udc80"}),
        "'headers' must be an object whose values are strings",
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_hand_built_event_with_wrong_field_types_raises_malformed_event_error(entry: Entry, case: str) -> None:
    name, mistake, words = MALFORMED[case]
    event = load_event(name)
    mistake(event)
    with pytest.raises(MalformedEventError, match=r"^malformed .* event: ") as caught:
        entry(event, LocalContext())
    assert words in str(caught.value)


@pytest.mark.parametrize("name", ["alb.health", "http-api-v2.health", "rest-v1-stage.health"])
def test_a_trailing_slash_is_served_and_never_redirected_to_the_clients_host(entry: Entry, name: str) -> None:
    event = load_event(name)
    for key in ("path", "rawPath"):
        if key in event:
            event[key] += "/"
    if "http" in event.get("requestContext", {}):
        event["requestContext"]["http"]["path"] += "/"
    if "path" in event.get("requestContext", {}):
        event["requestContext"]["path"] += "/"
    event["headers"] = {**(event.get("headers") or {}), "host": "evil.example"}
    event.pop("multiValueHeaders", None)
    answer = entry(event, LocalContext())
    assert answer["statusCode"] == 200, answer
    headers = {key.lower(): value for key, value in (answer.get("headers") or {}).items()}
    assert "location" not in headers
    assert "evil.example" not in json.dumps(answer)


# --- the local gateway, as API Gateway ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with local_server() as running:
        yield running


def test_the_local_server_answers_an_oversized_answer_as_deployed_a_413(server: LocalServer) -> None:
    reply = server.post_json("/v2/models/digits-cnn/infer", oip("i" * 4_800_000, binary=True))
    assert reply.status == 413
    assert reply.json()["answer_bytes"] > LAMBDA_RESPONSE_BYTES


class OversizedInstance:
    """A function that answers more than Lambda can return, as a model of what API Gateway then does."""

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        return {"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "x" * (LAMBDA_RESPONSE_BYTES + 1)}

    def answer(self, event: dict[str, Any]) -> GatewayAnswer:
        return gateway_answer(self.invoke(event))


def test_the_local_gateway_answers_a_response_lambda_would_refuse_as_api_gateway_does() -> None:
    gateway = GatewayServer(("127.0.0.1", 0), OversizedInstance(), "$default")  # type: ignore[arg-type]
    thread = threading.Thread(target=gateway.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = gateway.server_address[:2]
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"http://{host!s}:{port}/health", timeout=30)
        status, body = caught.value.code, json.loads(caught.value.read())
    finally:
        gateway.shutdown()
        gateway.server_close()
    assert (status, body) == (500, {"message": "Internal Server Error"})
