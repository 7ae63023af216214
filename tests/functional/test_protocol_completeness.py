"""GIVEN the digits model served through the runtime the entry point builds WHEN clients send what the Open
Inference Protocol allows and Triton's clients send (fields the schema does not name, GET /v2/, model control,
requests without an id, the same output twice, gzip and deflate bodies) THEN unknown fields are ignored while wrong
types are still refused, /v2/ answers as /v2, model control is a 400 saying models are fixed at INIT, every answer
carries an id, a duplicate output is a 400, and a compressed body is decoded, bounded by MAX_BODY_BYTES."""

from __future__ import annotations

import gzip
import json
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from handler.http_events import http_api_event
from handler.lambda_instance import LocalContext
from tests.testkit import onnx_models
from tests.testkit.events import response_json
from tests.testkit.invoke import Call, caller, runtime_for

DIGIT = {"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32", "data": [0.0] * 64}
INFER = "/v2/models/digits-cnn/infer"


@pytest.fixture(scope="module")
def call(default_model: Path) -> Call:
    return caller(runtime_for(default_model).http)


def test_fields_the_schema_does_not_name_are_ignored_at_every_level(call: Call) -> None:
    body: dict[str, Any] = {
        "model_name": "digits-cnn",  # as Triton's binary-extension example sends it
        "inputs": [{**DIGIT, "comment": "mine"}],
        "outputs": [{"name": "label", "priority": 1}],
        "trace": {"x": 1},
    }
    status, answer = call("POST", INFER, body)
    assert status == 200, answer
    assert [output["name"] for output in answer["outputs"]] == ["label"]


def test_a_known_field_of_the_wrong_type_is_still_refused(call: Call) -> None:
    status, answer = call("POST", INFER, {"inputs": [{**DIGIT, "shape": "1,1,8,8"}], "extra": True})
    assert status == 422, answer
    assert "body.inputs[0].shape: Input should be a valid list" in answer["error"]


def test_every_answer_carries_an_id_the_requests_or_a_new_one(call: Call) -> None:
    _, given = call("POST", INFER, {"id": "mine", "inputs": [DIGIT]})
    _, first = call("POST", INFER, {"inputs": [DIGIT]})
    _, second = call("POST", INFER, {"inputs": [DIGIT]})
    assert given["id"] == "mine"
    assert uuid.UUID(first["id"]).version == 4
    assert first["id"] != second["id"]


def test_v2_with_a_slash_answers_as_v2_without_a_redirect(call: Call) -> None:
    assert call("GET", "/v2/") == call("GET", "/v2")
    assert call("GET", "/v2/")[0] == 200


@pytest.mark.parametrize("action", ["load", "unload"])
def test_model_control_is_a_400_saying_models_are_fixed_at_init(call: Call, action: str) -> None:
    status, answer = call("POST", f"/v2/repository/models/digits-cnn/{action}", {})
    assert status == 400, answer
    assert answer["error"].startswith("model 'digits-cnn': models are fixed when this function starts")
    assert "deploy a new version" in answer["error"]


def test_the_same_output_asked_for_twice_is_a_400(call: Call) -> None:
    status, answer = call("POST", INFER, {"inputs": [DIGIT], "outputs": [{"name": "label"}, {"name": "label"}]})
    assert status == 400, answer
    assert answer["error"] == "output 'label' is requested more than once: name each output once"


def test_an_unknown_model_is_named_as_triton_names_it(call: Call) -> None:
    status, answer = call("GET", "/v2/models/resnet50")
    assert status == 404
    assert answer["error"].startswith("Request for unknown model: 'resnet50'")


@pytest.mark.parametrize("path", ["/v2/", "/v2/models/digits-cnn/", "/health/"])
def test_an_event_without_a_host_header_is_answered_not_redirected(default_model: Path, path: str) -> None:
    """Hand-built events and some test tools send no Host: nothing may redirect to https://mangum:80/..."""
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {},
        "requestContext": {"http": {"method": "GET", "path": path, "sourceIp": "203.0.113.7"}, "stage": "$default"},
        "isBase64Encoded": False,
    }
    response = runtime_for(default_model).http(event, LocalContext())
    assert response["statusCode"] == 200, response
    assert "location" not in {name.lower() for name in response.get("headers", {})}


def compressed_event(body: bytes, encoding: str) -> dict[str, Any]:
    headers = {"host": "test", "content-type": "application/json", "content-encoding": encoding}
    return http_api_event("POST", target=INFER, headers=headers, body=body, stage="$default", source_ip="1.1.1.1")


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress)],
    ids=["gzip", "deflate"],
)
def test_a_compressed_request_body_is_decoded(
    default_model: Path, encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    http = runtime_for(default_model).http
    body = json.dumps({"id": "z", "inputs": [DIGIT]}).encode()
    response = http(compressed_event(compress(body), encoding), LocalContext())
    assert response["statusCode"] == 200, response
    assert response_json(response)["id"] == "z"


@pytest.mark.parametrize(
    ("body", "encoding", "status", "words"),
    [
        (gzip.compress(b" " * 5_000_000), "gzip", 413, "inflates past the limit of 200000 bytes (MAX_BODY_BYTES"),
        (b"not gzip at all", "gzip", 400, "says Content-Encoding gzip but is not gzip data"),
        (b"{}", "br", 415, "Content-Encoding 'br' is not supported: send the body as gzip, deflate or uncompressed"),
    ],
    ids=["zip-bomb", "not-gzip", "brotli"],
)
def test_a_compressed_body_that_cannot_be_served_says_why(
    default_model: Path, body: bytes, encoding: str, status: int, words: str
) -> None:
    http = runtime_for(default_model, MAX_BODY_BYTES="200000").http
    response = http(compressed_event(body, encoding), LocalContext())
    assert response["statusCode"] == status, response
    assert words in response_json(response)["error"]


def raw_event(path: str, body: bytes) -> dict[str, Any]:
    headers = {"host": "test", "content-type": "application/octet-stream", "inference-header-content-length": "0"}
    return http_api_event("POST", target=path, headers=headers, body=body, stage="$default", source_ip="1.1.1.1")


def test_a_raw_binary_request_is_the_one_inputs_bytes_its_batch_deduced_from_their_size(default_model: Path) -> None:
    """Triton's raw binary request: Inference-Header-Content-Length 0, no JSON, the body the input's tensor."""
    http = runtime_for(default_model).http
    pixels = np.random.default_rng(3).integers(0, 17, (3, 1, 8, 8)).astype("<f4")
    response = http(raw_event(INFER, pixels.tobytes()), LocalContext())
    assert response["statusCode"] == 200, response
    outputs = {output["name"]: output for output in response_json(response)["outputs"]}
    assert outputs["label"]["shape"] == [3]
    as_json = {
        "inputs": [{"name": "input", "shape": [3, 1, 8, 8], "datatype": "FP32", "data": pixels.ravel().tolist()}]
    }
    _, expected = caller(http)("POST", INFER, as_json)
    assert outputs["label"]["data"] == {o["name"]: o for o in expected["outputs"]}["label"]["data"]


def test_a_raw_body_of_no_whole_instance_or_for_a_model_of_several_inputs_is_a_400(
    default_model: Path, tmp_path: Path
) -> None:
    http = runtime_for(default_model).http
    response = http(raw_event(INFER, b"\0" * 300), LocalContext())
    assert response["statusCode"] == 400
    assert "the raw body's 300 bytes are not a whole number of instances" in response_json(response)["error"]
    several = runtime_for(onnx_models.identity_per_datatype(tmp_path / "id.onnx"), MODEL_NAME="id").http
    response = several(raw_event("/v2/models/id/infer", b"\0" * 8), LocalContext())
    assert response["statusCode"] == 400
    assert "is for a model with one input; this one takes 'in_BOOL'" in response_json(response)["error"]
