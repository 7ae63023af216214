"""GIVEN the real local gateway in a subprocess on a free loopback port WHEN called over real HTTP THEN it
answers through the Lambda entry point exactly as API Gateway would, and stops when asked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.testkit.binary import binary_request, read_binary
from tests.testkit.paths import DIGITS_TEST_SET
from tests.testkit.server import LocalServer, local_server


@pytest.fixture(scope="module")
def server(default_model: Path) -> Iterator[LocalServer]:
    with local_server(env={"MAX_BODY_BYTES": "200000"}) as running:
        yield running


def held_out_digits(count: int) -> tuple[list[list[float]], list[int]]:
    """Real held-out digits when the export wrote them, else the first rows of the bundled set."""
    if DIGITS_TEST_SET.is_file():
        data = np.load(DIGITS_TEST_SET)
        images, labels = data["X"][:count], data["y"][:count]
    else:
        from sklearn.datasets import load_digits  # noqa: PLC0415 - export-time package, tests only

        bunch = load_digits()
        images, labels = bunch.images[-count:], bunch.target[-count:]
    return np.asarray(images, dtype=np.float32).reshape(count, -1).tolist(), [int(label) for label in labels]


def test_health_is_ready_over_http(server: LocalServer) -> None:
    reply = server.request("GET", "/health")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.json()["model"]["name"] == "digits-cnn"


def test_predict_labels_real_held_out_digits_mostly_right(server: LocalServer) -> None:
    images, labels = held_out_digits(40)
    reply = server.post_json("/predict", {"instances": images})
    assert reply.status == 200
    predicted = [int(p["label"]) for p in reply.json()["predictions"]]
    assert len(predicted) == 40
    assert sum(p == t for p, t in zip(predicted, labels, strict=True)) >= 36


def test_open_inference_protocol_infer_round_trip(server: LocalServer) -> None:
    images, _ = held_out_digits(3)
    request = {
        "id": "e2e",
        "inputs": [
            {
                "name": "input",
                "shape": [3, 1, 8, 8],
                "datatype": "FP32",
                "data": [value for image in images for value in image],
            }
        ],
        "outputs": [{"name": "label"}],
    }
    reply = server.post_json("/v2/models/digits-cnn/infer", request)
    assert reply.status == 200
    body = reply.json()
    assert body["id"] == "e2e"
    assert body["outputs"][0]["shape"] == [3]
    assert body["outputs"][0]["datatype"] == "BYTES"  # the class names


def test_binary_tensor_data_over_http_both_ways_matches_the_json_answer(server: LocalServer) -> None:
    images, _ = held_out_digits(2)
    request: dict[str, Any] = {
        "parameters": {"binary_data_output": True},
        "inputs": [{"name": "input", "shape": [2, 1, 8, 8], "datatype": "FP32"}],
    }
    body, length = binary_request(request, {"input": np.asarray(images, dtype=np.float32).reshape(2, 1, 8, 8)})
    headers = {"content-type": "application/octet-stream", "inference-header-content-length": str(length)}
    reply = server.request("POST", "/v2/models/digits-cnn/infer", body, headers)
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/octet-stream"
    answer = read_binary(reply.body, int(reply.headers["inference-header-content-length"]))
    as_json = {"inputs": [{**request["inputs"][0], "data": [value for image in images for value in image]}]}
    expected = server.post_json("/v2/models/digits-cnn/infer", as_json).json()
    assert [output["parameters"]["binary_data_size"] for output in answer["outputs"]] == [10, 80]  # 2 names, 20 floats
    assert [output["data"] for output in answer["outputs"]] == [output["data"] for output in expected["outputs"]]


def test_malformed_json_over_http_is_400_json(server: LocalServer) -> None:
    reply = server.request("POST", "/predict", b'{"instances": [', {"content-type": "application/json"})
    assert reply.status == 400
    assert reply.json()["error"].startswith("malformed JSON")


def test_a_body_over_the_configured_limit_is_413(server: LocalServer) -> None:
    reply = server.post_json("/predict", {"instances": [[0.0] * 64] * 2000})
    assert reply.status == 413
    assert "over the limit of 200000 bytes" in reply.json()["error"]


def test_a_json_body_sent_as_another_content_type_is_read_as_json(server: LocalServer) -> None:
    """What `curl -d` sends (form-urlencoded) and what some clients send (text/plain): Triton and KServe read it
    as JSON, and so does this server."""
    images, _ = held_out_digits(1)
    body = json.dumps({"instances": images}).encode()
    for declared in ("text/plain", "application/x-www-form-urlencoded"):
        reply = server.request("POST", "/predict", body, {"content-type": declared})
        assert reply.status == 200, reply.body
        assert len(reply.json()["predictions"]) == 1


def test_under_a_stage_the_docs_page_points_at_the_staged_openapi(default_model: Path) -> None:
    with local_server("--stage", "prod") as staged:
        assert staged.url.endswith("/prod")
        docs = staged.request("GET", "/docs")
        assert docs.status == 200
        assert b"/prod/openapi.json" in docs.body
        spec = staged.request("GET", "/openapi.json").json()
        assert spec["servers"] == [{"url": "/prod"}]
        assert staged.request("GET", "/health").status == 200


def test_the_server_stops_on_interrupt(default_model: Path) -> None:
    with local_server() as running:
        process = running.gateway.process
    assert process.returncode is not None
