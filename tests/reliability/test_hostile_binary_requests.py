"""GIVEN the real local gateway with small limits, and the real Lambda entry point WHEN a request's lengths or
encodings lie (Inference-Header-Content-Length, parameters.binary_data_size, Content-Length, HTTP framing, a
base64 body from API Gateway that is not base64) THEN each gets the expected 4xx and words as {"error": ...}
JSON, never a 5xx, a dropped connection or an HTML page."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from handler.lambda_instance import LocalContext
from tests.testkit.events import load_event
from tests.testkit.hostile_binary_requests import BINARY_CASES, BODY, CHUNKED, LENGTH, LONG, OCTET_STREAM
from tests.testkit.refusals import INFER, LIMITS, refusal
from tests.testkit.server import LocalServer, Reply, local_server


@pytest.fixture(scope="module")
def server(default_model: Path) -> Iterator[LocalServer]:
    with local_server(env=LIMITS) as running:
        yield running


@pytest.mark.parametrize("case", BINARY_CASES)
def test_a_binary_request_whose_lengths_lie_gets_its_4xx_and_says_which(server: LocalServer, case: str) -> None:
    (body, declared), status, expected = BINARY_CASES[case]

    reply = server.request(
        "POST", INFER, body, {"content-type": OCTET_STREAM, "inference-header-content-length": str(declared)}
    )

    message = refusal(reply.status, reply.headers, reply.body)
    assert reply.status == status, message
    assert expected in message


def test_binary_data_size_without_the_header_is_a_400_naming_the_header(server: LocalServer) -> None:
    reply = server.request("POST", INFER, BODY[:LENGTH], {"content-type": "application/json"})

    message = refusal(reply.status, reply.headers, reply.body)
    assert reply.status == 400
    assert "gives parameters.binary_data_size but the request has no Inference-Header-Content-Length" in message


def exchange(server: LocalServer, data: bytes, *, stop_sending: bool = False) -> Reply:
    """Raw bytes on one connection and the answer: for framing urllib will not send."""
    url = urlsplit(server.url)
    assert url.hostname is not None
    with socket.create_connection((url.hostname, url.port or 80), timeout=30) as connection:
        connection.sendall(data)
        if stop_sending:
            connection.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(connection)
        response.begin()
        return Reply(response.status, {key.lower(): value for key, value in response.getheaders()}, response.read())


def post(headers: bytes, body: bytes = b'{"instances": [[0]]}') -> bytes:
    """A POST /predict with ``headers`` (CRLF-ended lines) after Host and Content-Type, then ``body``."""
    return b"POST /predict HTTP/1.1\r\nHost: local\r\nContent-Type: application/json\r\n" + headers + b"\r\n" + body


# id: (bytes sent, whether the client then stops sending, status, words the error must hold)
FRAMING_CASES: dict[str, tuple[bytes, bool, int, str]] = {
    "content-length not a number": (post(b"Content-Length: abc\r\n"), False, 400, "'abc' is not a length"),
    "content-length negative": (post(b"Content-Length: -1\r\n"), False, 400, "content-length '-1' is not a length"),
    "content-length a superscript two": (post(b"Content-Length: \xb2\r\n"), False, 400, "is not a length"),
    "two content-lengths": (post(b"Content-Length: 20\r\nContent-Length: 5\r\n"), False, 400, "2 different values"),
    "content-length past the body": (post(b"Content-Length: 100\r\n"), True, 400, "ended after 20 of its 100 bytes"),
    "content-length short of the body": (
        post(b"Content-Length: 5\r\nConnection: close\r\n"),
        False,
        400,
        "malformed JSON in the request body at character 1",
    ),
    "no content-length": (post(b"Connection: close\r\n"), False, 400, "the request body is empty"),
    "content-length over 10 MB": (post(b"Content-Length: 99999999999\r\n"), False, 413, "request body over 10 MB"),
    "chunked body": (post(b"Transfer-Encoding: chunked\r\n", CHUNKED), False, 411, "send content-length"),
    "space in the path": (
        b"GET /a b HTTP/1.1\r\nHost: local\r\n\r\n",
        False,
        400,
        "malformed HTTP request: Bad request syntax",
    ),
    "request line over 64 KB": (b"GET /" + LONG + b" HTTP/1.1\r\n\r\n", False, 414, "Request-URI Too Long"),
    "header line over 64 KB": (b"GET /health HTTP/1.1\r\nX: " + LONG + b"\r\n\r\n", False, 431, "Line too long"),
    "101 headers": (b"GET /health HTTP/1.1\r\n" + b"X: y\r\n" * 101 + b"\r\n", False, 431, "Too many headers"),
}


@pytest.mark.parametrize("case", FRAMING_CASES)
def test_http_framing_that_lies_gets_a_json_4xx_and_an_answer(server: LocalServer, case: str) -> None:
    data, stop_sending, status, expected = FRAMING_CASES[case]

    reply = exchange(server, data, stop_sending=stop_sending)

    message = refusal(reply.status, reply.headers, reply.body)
    assert reply.status == status, message
    assert expected in message
    assert server.request("GET", "/health").status == 200  # and the server still serves


@pytest.fixture(scope="module")
def entry(default_model: Path) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    from handler.entrypoint import lambda_handler  # noqa: PLC0415 - importing it is INIT: it loads the model

    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = lambda_handler
    return handler


def lambda_refusal(response: dict[str, Any]) -> str:
    """The error message of a Lambda HTTP response, through the same checks as an HTTP one."""
    headers = dict(response.get("headers") or {})
    headers.update({key: values[0] for key, values in (response.get("multiValueHeaders") or {}).items() if values})
    assert response.get("isBase64Encoded") is False
    return refusal(response["statusCode"], headers, response["body"])


EVENTS = ["http-api-v2.predict", "http-api-v2.infer-binary", "rest-v1-stage.infer", "alb.predict", "function-url.infer"]


@pytest.mark.parametrize("body", ["%%%not base64", "ëÿ not ASCII"])
@pytest.mark.parametrize("name", EVENTS)
def test_a_body_flagged_base64_that_is_not_is_a_400_from_the_entry_point(
    entry: Callable[..., dict[str, Any]], name: str, body: str
) -> None:
    event = {**load_event(name), "body": body, "isBase64Encoded": True}

    response = entry(event, LocalContext())

    assert response["statusCode"] == 400
    assert "body is flagged isBase64Encoded but is not valid base64" in lambda_refusal(response)


@pytest.mark.parametrize("name", ["alb.predict", "rest-v1-stage.predict", "http-api-v2.health"])
def test_a_host_header_that_is_not_host_port_is_a_400_from_the_entry_point(
    entry: Callable[..., dict[str, Any]], name: str
) -> None:
    event = load_event(name)
    for key, host in (("headers", "x:y"), ("multiValueHeaders", ["x:y"])):
        if isinstance(event.get(key), dict):
            event[key] = {header: value for header, value in event[key].items() if header.lower() != "host"}
            event[key]["Host"] = host

    response = entry(event, LocalContext())

    assert response["statusCode"] == 400
    assert "the Host header 'x:y' cannot be read" in lambda_refusal(response)
