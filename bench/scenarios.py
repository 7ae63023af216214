"""The requests every contestant answers: the same held-out digits, as API Gateway HTTP API events.

``predict-N`` is the friendly endpoint with N instances; ``infer-N`` the Open Inference Protocol with
JSON tensors; ``binary-N`` the same request and response through the binary tensor data extension
(``application/octet-stream`` with ``Inference-Header-Content-Length``, base64 through API Gateway),
built by the tests' client-side codec (testkit.binary), which follows the protocol's text, not our server.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.measure import REPO
from handler.http_events import http_api_event
from tests.testkit import binary as client  # the tests' client-side codec, written from the protocol's text

INFER_PATH = "/v2/models/digits-cnn/infer"


def digits(count: int) -> np.ndarray:
    """``count`` held-out digits [count, 1, 8, 8] float32, the test set repeated as needed."""
    x = np.load(REPO / "models" / "digits-test.npz")["X"].astype(np.float32)
    return np.resize(x, (count, 1, 8, 8))


def _event(path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    headers = {**headers, "content-length": str(len(body))}
    return http_api_event("POST", target=path, headers=headers, body=body, stage="$default", source_ip="127.0.0.1")


def binary_event(x: np.ndarray, model: str = "digits-cnn") -> dict[str, Any]:
    """An HTTP API event POSTing ``x`` to ``model``'s infer route through the binary tensor data extension."""
    body, length = binary_request(x)
    headers = {"content-type": "application/octet-stream", "inference-header-content-length": str(length)}
    return _event(f"/v2/models/{model}/infer", body, headers)


def binary_request(x: np.ndarray) -> tuple[bytes, int]:
    """An OIP binary request for ``x`` asking for binary outputs: body and JSON header length."""
    request = {
        "inputs": [{"name": "input", "shape": list(x.shape), "datatype": "FP32"}],
        "parameters": {"binary_data_output": True},
    }
    return client.binary_request(request, {"input": x})


def binary_outputs(response: dict[str, Any]) -> dict[str, Any]:
    """A binary OIP response read from a Lambda HTTP response as a client reads it, by output name."""
    body = base64.b64decode(response["body"]) if response.get("isBase64Encoded") else response["body"].encode()
    length = int({k.lower(): v for k, v in response["headers"].items()}[client.HEADER])
    return {output["name"]: output for output in client.read_binary(body, length)["outputs"]}


def build(scenario: str) -> tuple[dict[str, Any], np.ndarray, Callable[[dict[str, Any]], None]]:
    """(event, the digits as an array, a check of the response) for ``kind-N``."""
    kind, count = scenario.rsplit("-", 1)
    x = digits(int(count))
    json_headers = {"content-type": "application/json"}
    if kind == "predict":
        event = _event("/predict", json.dumps({"instances": x.tolist()}).encode(), json_headers)
    elif kind == "infer":
        request = {
            "inputs": [{"name": "input", "shape": list(x.shape), "datatype": "FP32", "data": x.ravel().tolist()}]
        }
        event = _event(INFER_PATH, json.dumps(request).encode(), json_headers)
    else:
        event = binary_event(x)

    def check(response: dict[str, Any]) -> None:
        assert response["statusCode"] == 200, response.get("body", "")[:500]
        if kind == "binary":
            assert binary_outputs(response)["probabilities"]["shape"] == [len(x), 10]

    return event, x, check
