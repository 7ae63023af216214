"""What each HTTP event file in events/ must be answered, as AWS would return it to the caller (status, content
type, gzip and base64 as the event asks, and the body's values against onnxruntime), for every test that serves
those files: in-process, through awslambdaric, through AWS's runtime emulator."""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import onnxruntime as ort

from handler import __version__
from handler.answers import ANSWER_GZIP_BYTES
from tests.testkit.events import event_files, load_event, request_body, response_json

Check = Callable[[Any, dict[str, Any], ort.InferenceSession], None]
EXPECTED_INPUT = "'input' with shape [batch, 1, 8, 8] and datatype FP32"


def oracle(session: ort.InferenceSession, request: dict[str, Any]) -> dict[str, np.ndarray]:
    """What onnxruntime alone says for the event's digits."""
    if "instances" in request:
        batch = np.asarray(request["instances"], dtype=np.float32).reshape(-1, 1, 8, 8)
    else:
        tensor = request["inputs"][0]
        batch = np.asarray(tensor["data"], dtype=np.float32).reshape(tensor["shape"])
    label, probabilities = session.run(["label", "probabilities"], {"input": batch})
    return {"label": label, "probabilities": probabilities}


def check_health(body: Any, _: dict[str, Any], __: ort.InferenceSession) -> None:
    assert body["status"] == "ok"
    assert body["ready"] is True
    assert body["model"] == {"name": "digits-cnn", "version": "1", "task": "classification"}
    # initialization_type is the environment's ("local" in-process, "on-demand" under Lambda): checked by each test


def check_server_metadata(body: Any, _: dict[str, Any], __: ort.InferenceSession) -> None:
    extensions = ["binary_tensor_data", "statistics", "model_configuration"]
    expected = {"name": "onnx-lambda", "version": __version__, "extensions": extensions}
    assert body == expected | {"models": ["digits-cnn"]}


def check_model_metadata(body: Any, _: dict[str, Any], session: ort.InferenceSession) -> None:
    assert body["name"] == "digits-cnn"
    assert body["versions"] == ["1"]
    assert body["platform"] == "onnxruntime_onnx"
    assert [(t["name"], t["datatype"], t["shape"]) for t in body["inputs"]] == [("input", "FP32", [-1, 1, 8, 8])]
    assert [(t["name"], t["datatype"], t["shape"]) for t in body["outputs"]] == [
        ("label", "BYTES", [-1]),  # the class names
        ("probabilities", "FP32", [-1, 10]),
    ]
    metadata = session.get_modelmeta().custom_metadata_map
    assert all(isinstance(value, str) for value in body["parameters"].values())  # the protocol's scalars
    assert json.loads(body["parameters"]["class_labels"]) == [str(digit) for digit in range(10)]
    assert body["parameters"]["content_sha256"] == metadata["content_sha256"]
    assert body["inputs"][0]["description"]


def check_model_ready(body: Any, _: dict[str, Any], __: ort.InferenceSession) -> None:
    assert body == {"name": "digits-cnn", "ready": True}


def check_infer(body: Any, request: dict[str, Any], session: ort.InferenceSession) -> None:
    expected = oracle(session, request)
    wanted = [o["name"] for o in request.get("outputs", [])] or ["label", "probabilities"]
    assert body["model_name"] == "digits-cnn"
    assert body["model_version"] == "1"
    assert body["id"] == request["id"] if "id" in request else len(body["id"]) == 36  # the request's, or a new one
    assert [output["name"] for output in body["outputs"]] == wanted
    for output in body["outputs"]:
        array = expected[output["name"]]
        assert output["shape"] == list(array.shape)
        if output["name"] == "label":  # the class names, as onnxruntime gives them
            assert (output["datatype"], output["data"]) == ("BYTES", array.ravel().tolist())
        else:
            assert output["datatype"] == "FP32"
            np.testing.assert_allclose(output["data"], array.ravel(), rtol=1e-6)


def check_infer_binary(body: Any, request: dict[str, Any], session: ort.InferenceSession) -> None:
    # The request asked for every output as bytes (binary_data_output); read back, they are onnxruntime's answer.
    assert request["parameters"] == {"binary_data_output": True}
    assert all(set(output["parameters"]) == {"binary_data_size"} for output in body["outputs"])
    check_infer(body, request, session)


def check_predict(body: Any, request: dict[str, Any], session: ort.InferenceSession) -> None:
    expected = oracle(session, request)
    assert body["model_name"] == "digits-cnn"
    predictions = body["predictions"]
    assert [p["label"] for p in predictions] == [str(label) for label in expected["label"]]
    for prediction, row in zip(predictions, expected["probabilities"], strict=True):
        assert list(prediction["probabilities"]) == [str(digit) for digit in range(10)]
        np.testing.assert_allclose(list(prediction["probabilities"].values()), row, rtol=1e-6)
        assert prediction["score"] == max(prediction["probabilities"].values())


def check_openapi(body: Any, _: dict[str, Any], __: ort.InferenceSession) -> None:
    assert body["openapi"].startswith("3.")
    assert {"/health", "/predict", "/v2/models/{model_name}/infer"} <= set(body["paths"])


def error_is(fragment: str) -> Check:
    def check(body: Any, _: dict[str, Any], __: ort.InferenceSession) -> None:
        assert set(body) == {"error"}
        assert fragment in body["error"], body["error"]

    return check


CASES: dict[str, tuple[int, Check]] = {
    "health": (200, check_health),
    "server-metadata": (200, check_server_metadata),
    "model-metadata": (200, check_model_metadata),
    "model-ready": (200, check_model_ready),
    "infer": (200, check_infer),
    "infer-nested": (200, check_infer),
    "infer-binary": (200, check_infer_binary),
    "predict": (200, check_predict),
    "predict-flat": (200, check_predict),
    "predict-base64": (200, check_predict),
    "openapi": (200, check_openapi),
    "bad-json": (400, error_is("malformed JSON in the request body")),
    "bad-shape": (400, error_is(f"input 'input' has shape [1, 64], which does not fit: expected {EXPECTED_INPUT}")),
    "wrong-datatype": (400, error_is(f"input 'input' has datatype 'INT64': expected {EXPECTED_INPUT}")),
    "unknown-input": (
        400,
        error_is(f"unknown input 'pixels'; missing input 'input': the model expects {EXPECTED_INPUT}"),
    ),
    "unknown-model": (
        404,
        error_is("Request for unknown model: 'resnet50' is not served here; this endpoint serves 'digits-cnn'"),
    ),
    "unknown-version": (404, error_is("model 'digits-cnn' has no version '7'; the served version is '1'")),
    "strings-for-numbers": (400, error_is("instances: expected numbers for datatype FP32, got strings")),
}
# Cases answered in the binary tensor data extension: octet-stream, base64-encoded by Mangum for API Gateway.
BINARY_CASES = {"infer-binary"}
HTTP_KINDS = ("http-api-v2.", "rest-v1-stage.", "alb.", "function-url.")
HTTP_FILES = [path for path in event_files() if path.name.startswith(HTTP_KINDS) and ".docs." not in path.name]


def content_type(response: dict[str, Any]) -> str:
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    multi = {k.lower(): v[0] for k, v in (response.get("multiValueHeaders") or {}).items() if v}
    return str(headers.get("content-type") or multi.get("content-type"))


def check_answer(name: str, response: dict[str, Any], session: ort.InferenceSession) -> None:
    """The whole check of the response to the event file ``name``."""
    event = load_event(name)
    case = name.split(".")[1]
    status, check = CASES[case]
    assert response["statusCode"] == status, response
    binary = case in BINARY_CASES
    assert content_type(response) == ("application/octet-stream" if binary else "application/json")
    # An answer of a kilobyte or more is gzipped for an event that accepts it (the ALB ones send gzip): base64 then.
    gzipped = {str(k).lower(): v for k, v in response["headers"].items()}.get("content-encoding") == "gzip"
    raw = base64.b64decode(response["body"]) if response["isBase64Encoded"] else response["body"].encode()
    size = len(gzip.decompress(raw)) if gzipped else len(raw)
    accepts = any(
        str(k).lower() == "accept-encoding" and "gzip" in str(v) for k, v in (event.get("headers") or {}).items()
    )
    assert gzipped is (accepts and size >= ANSWER_GZIP_BYTES)
    assert response["isBase64Encoded"] is (binary or gzipped)
    check(response_json(response), request_body(event) or {}, session)


# /health "init" values that legitimately differ between two processes: how long each INIT took, and what the
# Lambda environment decides (AWS_LAMBDA_INITIALIZATION_TYPE, and threads from AWS_LAMBDA_FUNCTION_MEMORY_SIZE).
INIT_TIMINGS = ("session_ms", "warmup_ms")
PER_PROCESS = (*INIT_TIMINGS, "initialization_type", "threads")
GENERATED_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}")


def comparable_body(response: dict[str, Any]) -> Any:
    """The JSON body (text for HTML), with the per-process INIT values blanked out of /health, and an infer answer's
    id when the server made one up (a new UUID each time)."""
    if not str(content_type(response)).startswith("application/json"):
        return response["body"]
    body = response_json(response)
    if isinstance(body, dict) and isinstance(body.get("init"), dict):
        body["init"] |= dict.fromkeys(PER_PROCESS, "<per process>")
    if isinstance(body, dict) and GENERATED_ID.fullmatch(str(body.get("id"))):
        body["id"] = "<generated>"
    return body
