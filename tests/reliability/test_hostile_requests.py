"""GIVEN the real local gateway, at the root and under a stage path, with small limits (MAX_BODY_BYTES=4096,
MAX_BATCH_SIZE=8) WHEN sent hostile JSON requests (malformed, oversized, deeply nested, shapes that lie,
NaN, wrong types, names that do not exist, batches over the limit, methods and Host headers it cannot take)
THEN each gets the expected 4xx and words, as {"error": ...} JSON that leaks no traceback, path or version."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.testkit.hostile_requests import CASES, predict
from tests.testkit.refusals import INFER, JSON, LIMITS, refusal
from tests.testkit.server import LocalServer, local_server


@pytest.fixture(scope="module")
def root(default_model: Path) -> Iterator[LocalServer]:
    with local_server(env=LIMITS) as running:
        yield running


@pytest.fixture(scope="module")
def staged(default_model: Path) -> Iterator[LocalServer]:
    with local_server("--stage", "prod", env=LIMITS) as running:
        yield running


@pytest.fixture(params=["root", "staged"])
def server(request: pytest.FixtureRequest) -> LocalServer:
    """Each server in turn: every refusal must read the same at the root and under /prod."""
    running: LocalServer = request.getfixturevalue(request.param)
    return running


@pytest.mark.parametrize("case", CASES)
def test_a_hostile_json_request_gets_its_4xx_and_says_what_is_wrong(server: LocalServer, case: str) -> None:
    path, body, content_type, status, expected = CASES[case]

    reply = server.request("POST", path, body, {"content-type": content_type})

    message = refusal(reply.status, reply.headers, reply.body)
    assert reply.status == status, message
    assert expected in message


@pytest.mark.parametrize(
    ("method", "path", "status", "expected"),
    [
        ("DELETE", "/predict", 405, "method DELETE is not allowed on "),
        ("PATCH", INFER, 405, "method PATCH is not allowed on "),
        ("FROB", "/predict", 405, "method FROB is not allowed on "),
        ("TRACE", "/health", 405, "method TRACE is not allowed on "),
        ("GET", INFER, 405, "method GET is not allowed on "),
        ("GET", "/../../etc/passwd", 404, "no route GET "),
        ("GET", "/v2/models/%ff", 404, "Request for unknown model: '\ufffd' is not served here"),
    ],
)
def test_a_method_or_path_no_route_takes_is_a_json_4xx(
    server: LocalServer, method: str, path: str, status: int, expected: str
) -> None:
    reply = server.request(method, path)

    message = refusal(reply.status, reply.headers, reply.body)
    assert reply.status == status, message
    assert expected in message


@pytest.mark.parametrize("host", ["local:http", "a:b:c", "[::1]:8080"])
def test_a_host_header_mangum_cannot_read_is_a_json_400_not_an_invocation_error(server: LocalServer, host: str) -> None:
    reply = server.request("GET", "/health", headers={"host": host})

    message = refusal(reply.status, reply.headers, reply.body)
    assert reply.status == 400
    assert f"the Host header {host!r} cannot be read" in message


def test_under_a_stage_a_path_outside_it_is_a_json_404_naming_the_stage(staged: LocalServer) -> None:
    outside = LocalServer(replace(staged.gateway, url=staged.url.removesuffix("/prod")))

    reply = outside.request("POST", "/predict", predict([[0] * 64]), {"content-type": JSON})

    message = refusal(reply.status, reply.headers, reply.body)
    assert reply.status == 404
    assert "this API is served under the stage path /prod/" in message
