"""GIVEN the container host's HTTP server (python -m handler.http_host: uvicorn in front of the one entry point)
WHEN clients call it as they call the function, keep a connection alive, send too much, or the host stops it or
cannot load its model THEN it answers exactly what the function answers through API Gateway, takes no connection
before INIT is done, finishes a request in flight on SIGTERM, and exits with INIT's error rather than serving.
"""

from __future__ import annotations

import http.client
import json
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handler import http_host as host_module
from tests.testkit.http_host import HostProcess, http_host, start_host, wait_for_health
from tests.testkit.invoke import Call, caller, runtime_for

DIGIT = [0.0] * 64
TENSOR = {"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32"}
REQUESTS: list[tuple[str, str, Any]] = [
    ("GET", "/health", None),
    ("GET", "/v2", None),
    ("GET", "/v2/models/digits-cnn", None),
    ("POST", "/predict", {"instances": [DIGIT, DIGIT]}),
    (
        "POST",
        "/v2/models/digits-cnn/infer",
        {"id": "x", "inputs": [{"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32", "data": DIGIT}]},
    ),
    ("POST", "/predict", {"instances": [[1.0] * 63]}),
    ("POST", "/predict", {"instance": []}),
    ("GET", "/v2/models/nope", None),
    ("GET", "/nowhere", None),
    ("DELETE", "/predict", None),
    ("POST", "/v2/repository/models/digits-cnn/load", {}),
]


@pytest.fixture(scope="module")
def host(default_model: Path) -> Iterator[HostProcess]:
    with http_host("--workers", "2") as running:
        yield running


@pytest.fixture(scope="module")
def function(default_model: Path) -> Call:
    """The same function called in-process with API Gateway's events: the answers the host must give."""
    return caller(runtime_for(default_model).http)


def request(host: HostProcess, method: str, path: str, body: bytes | None = None, **headers: str) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", host.port, timeout=30)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, json.loads(data) if data else None


def comparable(answer: Any) -> Any:
    """An answer without what differs between two instances by design: INIT timings, thread counts."""
    if isinstance(answer, dict) and "init" in answer:
        return {**answer, "init": sorted(answer["init"])}
    return answer


@pytest.mark.parametrize(("method", "path", "body"), REQUESTS, ids=[f"{m} {p}" for m, p, _ in REQUESTS])
def test_every_answer_is_the_functions_own(
    host: HostProcess, function: Call, method: str, path: str, body: Any
) -> None:
    data = json.dumps(body).encode() if body is not None else None
    got = request(host, method, path, data, **({"content-type": "application/json"} if data else {}))
    status, expected = function(method, path, body)
    assert (got[0], comparable(got[1])) == (status, comparable(expected))


def test_no_connection_is_answered_before_init_has_warmed_the_model_up(default_model: Path) -> None:
    host = start_host("--workers", "1")
    try:
        wait_for_health(host, 90)
        assert host.polls[-1] == "200"
        assert set(host.polls[:-1]) <= {"ConnectionRefusedError", "URLError"}, host.polls
        assert any("model ready" in line for line in host.output)
    finally:
        assert host.stop() == 0


def test_one_kept_alive_connection_serves_request_after_request(host: HostProcess) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", host.port, timeout=30)
    body = json.dumps({"instances": [DIGIT]}).encode()
    first_socket = None
    for _ in range(20):
        connection.request("POST", "/predict", body=body, headers={"content-type": "application/json"})
        response = connection.getresponse()
        assert (response.status, response.getheader("connection")) == (200, None)
        response.read()
        first_socket = first_socket or connection.sock
        assert connection.sock is first_socket  # the same TCP connection every time
    connection.close()


def test_a_body_over_api_gateways_10_mb_is_a_413_before_the_function_sees_it(host: HostProcess) -> None:
    status, answer = request(
        host, "POST", "/predict", b" " * (10 * 1024 * 1024 + 1), **{"content-type": "application/json"}
    )
    assert status == 413
    assert "over 10 MB" in answer["error"]


def test_sigterm_lets_the_request_in_flight_finish_then_exits_0(default_model: Path) -> None:
    with http_host("--workers", "1") as host:
        body = json.dumps({"instances": [DIGIT]}).encode()
        with socket.create_connection(("127.0.0.1", host.port), timeout=30) as client:
            head = f"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
            client.sendall(head.encode() + body[:10])  # the request has begun: its body is still coming
            time.sleep(0.5)
            host.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            client.sendall(body[10:])
            answer = client.makefile("rb").read()
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert b'"predictions"' in answer
        assert host.stop() == 0


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_model_that_cannot_load_stops_the_host_with_inits_error(tmp_path: Path, workers: str) -> None:
    host = start_host("--workers", workers, env={"MODEL_PATH": str(tmp_path / "missing.onnx")})
    host.process.wait(timeout=90)
    assert host.stop() == 3, host.output
    assert any("missing.onnx" in line for line in host.output), host.output


def test_workers_default_to_the_cpus_a_cgroup_quota_allows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    quota = tmp_path / "cpu.max"
    monkeypatch.setattr(host_module, "CGROUP_CPU_MAX", quota)
    monkeypatch.setattr(host_module.os, "sched_getaffinity", lambda _: {0, 1, 2, 3})
    assert host_module.usable_cpus() == 4  # no cgroup file: the affinity
    quota.write_text("150000 100000\n")
    assert host_module.usable_cpus() == 2  # docker --cpus 1.5: two workers, each busy part of the time
    quota.write_text("max 100000\n")
    assert host_module.usable_cpus() == 4


def test_repeated_headers_are_joined_as_api_gateway_joins_them() -> None:
    scope = {"headers": [(b"X-A", b"1"), (b"x-a", b"2"), (b"Cookie", b"a=1"), (b"cookie", b"b=2")]}
    assert host_module._headers(scope) == {"x-a": "1,2", "cookie": "a=1; b=2"}
    assert host_module._target({"raw_path": b"/v2/models/m%2Fx", "path": "/v2/models/m/x", "query_string": b"k=1"}) == (
        "/v2/models/m%2Fx?k=1"
    )
