"""GIVEN models served through the real runtime and the Lambda entry point WHEN infer requests use the binary
tensor data extension (JSON header, then tensor bytes, as Triton's client sends them) THEN the answers
equal the JSON path's and onnxruntime's own, outputs come back as bytes exactly when asked, API Gateway's
base64 works both ways, and every length that lies gets a JSON 400; the server lists the extension."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from handler.http_events import http_api_event
from handler.lambda_instance import LocalContext
from handler.model import open_session
from handler.runtime import Runtime
from handler.signature import DATATYPE_TO_NUMPY
from tests.testkit import onnx_models
from tests.testkit.binary import binary_request
from tests.testkit.events import response_json
from tests.testkit.invoke import caller, runtime_for, unready_adapter
from tests.testkit.tensor_samples import SAMPLES

Adapter = Callable[[dict[str, Any], Any], dict[str, Any]]
DIGITS = "/v2/models/digits-cnn/infer"
OCTET_STREAM = "application/octet-stream"


@pytest.fixture(scope="module")
def identity(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    return runtime_for(onnx_models.identity_per_datatype(tmp_path_factory.mktemp("m") / "id.onnx"), MODEL_NAME="id")


@pytest.fixture(scope="module")
def digits(default_model: Path) -> Runtime:
    return runtime_for(default_model)


def post(
    adapter: Adapter, path: str, body: bytes, length: int | str | None, content_type: str | None = OCTET_STREAM
) -> dict[str, Any]:
    """The Lambda response to a POST sent as an HTTP API v2 event (binary bodies arrive base64-encoded)."""
    headers = {"host": "test"}
    if content_type:
        headers["content-type"] = content_type
    if length is not None:
        headers["inference-header-content-length"] = str(length)
    event = http_api_event("POST", target=path, headers=headers, body=body, stage="$default", source_ip="1.1.1.1")
    return adapter(event, LocalContext())


def header(response: dict[str, Any], name: str) -> str | None:
    value: str | None = (response.get("headers") or {}).get(name)
    return value


def identity_request(batch: int = 2) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Every datatype as an [batch, 2] input of the identity model: the JSON request and the same as arrays."""
    request: dict[str, Any] = {"id": "b", "inputs": []}
    arrays = {}
    for datatype, values in SAMPLES.items():
        data = values[: batch * 2]
        request["inputs"].append({"name": f"in_{datatype}", "shape": [batch, 2], "datatype": datatype, "data": data})
        arrays[f"in_{datatype}"] = np.array(data, dtype=DATATYPE_TO_NUMPY[datatype]).reshape(batch, 2)
    return request, arrays


def digits_batch(count: int = 3) -> np.ndarray:
    return (np.arange(count * 64, dtype=np.float32) % 17).reshape(count, 1, 8, 8)


def test_a_binary_request_gets_the_same_json_answer_as_the_json_request(identity: Runtime) -> None:
    request, arrays = identity_request()
    status, expected = caller(identity.http)("POST", "/v2/models/id/infer", request)
    assert status == 200
    for content_type in (OCTET_STREAM, None):  # tritonclient sends octet-stream, or no content type at all
        response = post(identity.http, "/v2/models/id/infer", *binary_request(request, arrays), content_type)
        assert response["statusCode"] == 200
        assert header(response, "content-type") == "application/json"
        assert header(response, "inference-header-content-length") is None
        assert json.loads(response["body"]) == expected


def test_binary_outputs_decode_to_exactly_what_onnxruntime_itself_returns(digits: Runtime) -> None:
    batch = digits_batch()
    request = {
        "parameters": {"binary_data_output": True},
        "inputs": [{"name": "input", "shape": [3, 1, 8, 8], "datatype": "FP32"}],
    }
    response = post(digits.http, DIGITS, *binary_request(request, {"input": batch}))
    assert response["statusCode"] == 200
    assert header(response, "content-type") == OCTET_STREAM
    assert response["isBase64Encoded"] is True
    body = response_json(response)
    assert digits.plane.report is not None
    session = open_session(Path(digits.plane.report.model_path), digits.plane.report.threads)  # as served
    label, probabilities = session.run(["label", "probabilities"], {"input": batch})
    assert [(o["name"], o["datatype"], o["shape"]) for o in body["outputs"]] == [
        ("label", "BYTES", [3]),  # the class names
        ("probabilities", "FP32", [3, 10]),
    ]
    assert body["outputs"][0]["data"] == label.tolist()
    assert np.array(body["outputs"][1]["data"], dtype=np.float32).tobytes() == probabilities.tobytes()


def test_each_output_chooses_binary_or_json_and_the_request_level_default_gives_way(digits: Runtime) -> None:
    request = {
        "id": "mixed",
        "parameters": {"binary_data_output": True},
        "inputs": [{"name": "input", "shape": [2, 1, 8, 8], "datatype": "FP32"}],
        "outputs": [{"name": "label"}, {"name": "probabilities", "parameters": {"binary_data": False}}],
    }
    response = post(digits.http, DIGITS, *binary_request(request, {"input": digits_batch(2)}))
    assert response["statusCode"] == 200
    body = response_json(response)
    length = int(header(response, "inference-header-content-length") or 0)
    label, probabilities = body["outputs"]
    assert label["parameters"] == {"binary_data_size": 10}  # two one-letter names, each after its 4-byte length
    assert "parameters" not in probabilities
    assert len(probabilities["data"]) == 20
    assert body["id"] == "mixed"
    assert len(base64.b64decode(response["body"])) == length + 10  # only the label's bytes follow the JSON


def test_base64_bodies_through_an_http_api_event_and_the_entry_point_both_ways(default_model: Path) -> None:
    from handler.entrypoint import lambda_handler  # noqa: PLC0415 - importing it is INIT: it loads the model

    request: dict[str, Any] = {
        "inputs": [{"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32"}],
        "outputs": [{"name": "label", "parameters": {"binary_data": True}}],
    }
    pixels = digits_batch(1)
    body, length = binary_request(request, {"input": pixels})
    event = http_api_event(
        "POST",
        target=DIGITS,
        headers={"host": "test", "content-type": OCTET_STREAM, "inference-header-content-length": str(length)},
        body=body,
        stage="$default",
        source_ip="1.1.1.1",
    )
    assert event["isBase64Encoded"] is True
    response = lambda_handler(event, LocalContext())
    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is True
    assert header(response, "content-type") == OCTET_STREAM
    as_json = {**request, "inputs": [{**request["inputs"][0], "data": pixels.ravel().tolist()}]}
    status, expected = caller(lambda_handler)("POST", DIGITS, as_json)
    assert status == 200
    assert response_json(response)["outputs"] == [
        {"name": "label", "datatype": "BYTES", "shape": [1], "parameters": {"binary_data_size": 5}, "data": ["7"]}
    ]
    # The same request in JSON asked for the label as binary_data too, so it gets it so, as Triton answers.
    assert expected["outputs"] == response_json(response)["outputs"]
    json_event = http_api_event(
        "POST",
        target=DIGITS,
        headers={"host": "test", "content-type": "application/json"},
        body=json.dumps(as_json).encode(),
        stage="$default",
        source_ip="1.1.1.1",
    )
    assert header(lambda_handler(json_event, LocalContext()), "content-type") == OCTET_STREAM
    status, metadata = caller(lambda_handler)("GET", "/v2")
    assert (status, metadata["extensions"]) == (200, ["binary_tensor_data", "statistics", "model_configuration"])


BODY, LENGTH = binary_request(
    {"inputs": [{"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32"}]}, {"input": digits_batch(1)}
)
LENGTH_WORDS = "expected the length in bytes of the JSON inference request at the start of the body"


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ("", f"the Inference-Header-Content-Length header is empty: {LENGTH_WORDS}"),
        ("ten", f"the Inference-Header-Content-Length header is 'ten', not an integer: {LENGTH_WORDS}"),
        ("-1", f"the Inference-Header-Content-Length header is negative (-1): {LENGTH_WORDS}"),
        (
            len(BODY) + 5,
            f"the Inference-Header-Content-Length header says {len(BODY) + 5} bytes but the whole body is "
            f"{len(BODY)}: {LENGTH_WORDS}",
        ),
        (
            LENGTH - 2,
            f"malformed JSON in the JSON inference header (the first {LENGTH - 2} bytes of the body, per "
            f"Inference-Header-Content-Length): Expecting ',' delimiter at position {LENGTH - 2}; "
            "Inference-Header-Content-Length must be the length in bytes of the JSON request exactly",
        ),
        (
            LENGTH + 4,
            f"malformed JSON in the JSON inference header (the first {LENGTH + 4} bytes of the body, per "
            f"Inference-Header-Content-Length): Extra data at position {LENGTH}; "
            "Inference-Header-Content-Length must be the length in bytes of the JSON request exactly",
        ),
    ],
    ids=["empty", "word", "negative", "past-the-body", "too-short", "too-long"],
)
def test_header_lengths_that_lie_are_answered_400_with_a_json_error(
    digits: Runtime, declared: int | str, message: str
) -> None:
    response = post(digits.http, DIGITS, BODY, declared)
    assert response["statusCode"] == 400
    assert header(response, "content-type") == "application/json"
    assert json.loads(response["body"]) == {"error": message}


def test_inputs_whose_bytes_do_not_match_their_shape_are_400_naming_the_input(digits: Runtime) -> None:
    request = {"inputs": [{"name": "input", "shape": [2, 1, 8, 8], "datatype": "FP32"}]}
    body, length = binary_request(request, {"input": digits_batch(1)})
    response = post(digits.http, DIGITS, body, length)
    assert (response["statusCode"], json.loads(response["body"])) == (
        400,
        {
            "error": "input 'input': parameters.binary_data_size is 256 but shape [2, 1, 8, 8] of FP32 needs 512 "
            "bytes (128 elements of 4 bytes)"
        },
    )


def test_the_json_part_gets_the_json_bodys_structure_checks_and_words(digits: Runtime) -> None:
    body = json.dumps({"input": []}).encode()
    response = post(digits.http, DIGITS, body, len(body))
    assert response["statusCode"] == 422
    assert json.loads(response["body"])["error"].startswith("invalid request body: body.inputs: Field required")
    body = json.dumps({"inputs": [{"name": "input", "shape": ["1"], "datatype": "FP32"}]}).encode()
    response = post(digits.http, DIGITS, body, len(body))
    assert response["statusCode"] == 422
    assert "body.inputs[0].shape[0]: Input should be a valid integer" in json.loads(response["body"])["error"]


def test_binary_data_size_without_the_header_says_the_header_is_missing(digits: Runtime) -> None:
    response = post(digits.http, DIGITS, BODY[:LENGTH], None, "application/json")
    assert (response["statusCode"], json.loads(response["body"])) == (
        400,
        {
            "error": "input 'input' gives parameters.binary_data_size but the request has no "
            "Inference-Header-Content-Length header: send it with the length in bytes of the JSON part (the binary "
            "tensor data extension), or give the input's values in 'data'"
        },
    )


def test_the_routes_checks_apply_unknown_model_404_not_ready_503_body_limit_413(
    digits: Runtime, tmp_path: Path
) -> None:
    response = post(digits.http, "/v2/models/other/versions/1/infer", BODY, LENGTH)
    assert (response["statusCode"], json.loads(response["body"])) == (
        404,
        {"error": "Request for unknown model: 'other' is not served here; this endpoint serves 'digits-cnn'"},
    )
    response = post(unready_adapter(), DIGITS, BODY, LENGTH)
    assert response["statusCode"] == 503
    limited = runtime_for(onnx_models.scaler(tmp_path / "s.onnx"), MAX_BODY_BYTES="1024")
    big = {"inputs": [{"name": "input", "shape": [100, 3], "datatype": "FP32"}]}
    response = post(limited.http, "/v2/models/s/infer", *binary_request(big, {"input": np.zeros((100, 3), "f4")}))
    assert response["statusCode"] == 413
    assert "over the limit of 1024 bytes (MAX_BODY_BYTES" in json.loads(response["body"])["error"]


def test_openapi_documents_the_octet_stream_body_its_header_and_binary_answers(digits: Runtime) -> None:
    status, spec = caller(digits.http)("GET", "/openapi.json")
    assert status == 200
    for path in ("/v2/models/{model_name}/infer", "/v2/models/{model_name}/versions/{model_version}/infer"):
        operation = spec["paths"][path]["post"]
        assert set(operation["requestBody"]["content"]) == {"application/json", OCTET_STREAM}
        assert operation["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/InferenceRequest"
        }
        headers = [p for p in operation["parameters"] if p["in"] == "header"]
        assert [(p["name"], p["required"], p["schema"]["type"]) for p in headers] == [
            ("Inference-Header-Content-Length", False, "integer")
        ]
        ok = operation["responses"]["200"]
        assert set(ok["content"]) == {"application/json", OCTET_STREAM}
        assert "Inference-Header-Content-Length" in ok["headers"]


def test_identity_round_trip_of_every_datatype_as_bytes_both_ways(identity: Runtime) -> None:
    request, arrays = identity_request()
    request["parameters"] = {"binary_data_output": True}
    response = post(identity.http, "/v2/models/id/infer", *binary_request(request, arrays))
    assert response["statusCode"] == 200
    body = response_json(response)
    for output in body["outputs"]:
        datatype = output["datatype"]
        assert output["parameters"]["binary_data_size"] > 0
        assert output["data"] == arrays[f"in_{datatype}"].ravel().tolist(), datatype
