"""GIVEN small purpose-built models served through the real runtime WHEN called over HTTP API events
THEN every route answers per the Open Inference Protocol, and every mistake gets a JSON 4xx."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.testkit import onnx_models
from tests.testkit.invoke import Call, caller, runtime_for, unready_adapter
from tests.testkit.tensor_samples import SAMPLES


@pytest.fixture(scope="module")
def identity(tmp_path_factory: pytest.TempPathFactory) -> Call:
    path = onnx_models.identity_per_datatype(tmp_path_factory.mktemp("m") / "identity.onnx")
    return caller(runtime_for(path, MODEL_NAME="identity").http)


@pytest.fixture(scope="module")
def scaler(tmp_path_factory: pytest.TempPathFactory) -> Call:
    metadata = {"model_name": "scaler", "model_version": "3", "inputs": json.dumps({"input": "three numbers"})}
    path = onnx_models.scaler(tmp_path_factory.mktemp("m") / "scaler.onnx", metadata=metadata)
    return caller(runtime_for(path, MAX_BODY_BYTES="2048", MAX_BATCH_SIZE="4").http)


def all_inputs(batch: int = 2) -> list[dict[str, object]]:
    return [
        {"name": f"in_{dt}", "shape": [batch, 2], "datatype": dt, "data": SAMPLES[dt][: batch * 2]} for dt in SAMPLES
    ]


def test_every_datatype_goes_through_the_model_and_back_unchanged(identity: Call) -> None:
    status, body = identity("POST", "/v2/models/identity/infer", {"id": "abc", "inputs": all_inputs()})
    assert status == 200, body
    assert body["id"] == "abc"
    assert body["model_name"] == "identity"
    outputs = {output["name"]: output for output in body["outputs"]}
    for datatype, values in SAMPLES.items():
        assert outputs[f"out_{datatype}"] == {
            "name": f"out_{datatype}",
            "datatype": datatype,
            "shape": [2, 2],
            "data": values,
        }


def test_metadata_maps_every_onnx_type_to_its_protocol_datatype(identity: Call) -> None:
    status, body = identity("GET", "/v2/models/identity")
    assert status == 200
    assert body["platform"] == "onnxruntime_onnx"
    assert {tensor["name"]: tensor["datatype"] for tensor in body["inputs"]} == {f"in_{dt}": dt for dt in SAMPLES}
    assert all(tensor["shape"] == [-1, 2] for tensor in body["inputs"] + body["outputs"])


def test_requested_outputs_are_the_only_ones_returned(identity: Call) -> None:
    request = {"inputs": all_inputs(1), "outputs": [{"name": "out_INT8"}, {"name": "out_BYTES"}]}
    status, body = identity("POST", "/v2/models/identity/versions/1/infer", request)
    assert status == 200
    assert [output["name"] for output in body["outputs"]] == ["out_INT8", "out_BYTES"]
    assert uuid.UUID(body["id"]).version == 4  # a request without an id gets a new one (KServe's data model needs it)


@pytest.mark.parametrize(
    ("request_body", "status", "message"),
    [
        (
            {"inputs": [{"name": "in_FP32", "shape": [1, 2], "datatype": "FP32", "data": [1, 2]}]},
            400,
            "missing input 'in_BOOL'",
        ),
        ({"inputs": all_inputs(1), "outputs": [{"name": "nope"}]}, 400, "unknown output 'nope'"),
        ({"inputs": [*all_inputs(1), all_inputs(1)[0]]}, 400, "input 'in_BOOL' appears more than once"),
        ({"inputs": []}, 422, "inputs: List should have at least 1 item"),
        (
            {"inputs": [{"name": "x", "shape": ["2"], "datatype": "FP32", "data": [1]}]},
            422,
            "inputs[0].shape[0]: Input should be a valid integer",
        ),
        ({"input": []}, 422, "body.inputs: Field required"),
    ],
)
def test_malformed_requests_get_a_4xx_naming_the_problem(
    identity: Call, request_body: object, status: int, message: str
) -> None:
    got_status, body = identity("POST", "/v2/models/identity/infer", request_body)
    assert got_status == status
    assert message in body["error"]
    assert set(body) == {"error"}


def test_a_regression_model_answers_predict_with_raw_outputs(scaler: Call) -> None:
    status, body = scaler("POST", "/predict", {"instances": [[1, 2, 3], [0.5, 0, -1]]})
    assert status == 200
    assert body == {
        "model_name": "scaler",
        "model_version": "3",
        "predictions": [{"outputs": {"output": [2.0, 4.0, 6.0]}}, {"outputs": {"output": [1.0, 0.0, -2.0]}}],
    }


def test_metadata_descriptions_come_from_the_models_metadata_props(scaler: Call) -> None:
    status, body = scaler("GET", "/v2/models/scaler/versions/3")
    assert status == 200
    assert body["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 3], "description": "three numbers"}]
    assert json.loads(body["parameters"]["inputs"]) == {"input": "three numbers"}


def test_a_body_over_the_limit_is_413_with_the_limit_and_lambdas_in_the_message(scaler: Call) -> None:
    status, body = scaler("POST", "/predict", {"instances": [[1.0, 2.0, 3.0]] * 200})
    assert status == 413
    assert "over the limit of 2048 bytes (MAX_BODY_BYTES" in body["error"]
    assert "6 MB" in body["error"]


def test_a_batch_over_the_limit_is_413_naming_the_limit(scaler: Call) -> None:
    status, body = scaler("POST", "/predict", {"instances": [[1, 2, 3]] * 5})
    assert status == 413
    assert "batch of 5, over the limit of 4 (MAX_BATCH_SIZE)" in body["error"]


def test_a_wrong_version_is_404_naming_the_served_one(scaler: Call) -> None:
    status, body = scaler("GET", "/v2/models/scaler/versions/2/ready")
    assert status == 404
    assert body == {"error": "model 'scaler' has no version '2'; the served version is '3'"}


def test_unknown_routes_and_methods_answer_json(scaler: Call) -> None:
    assert scaler("GET", "/v3/anything") == (404, {"error": "no route GET /v3/anything; see /docs for the API"})
    assert scaler("DELETE", "/predict") == (405, {"error": "method DELETE is not allowed on /predict"})


def test_bytes_that_are_not_json_are_400(scaler: Call) -> None:
    status, body = scaler("POST", "/predict", raw=b"\xff\xfe not json")
    assert status == 400
    assert body["error"].startswith("malformed JSON in the request body")


def test_a_json_body_without_content_type_is_read_as_json_as_tritons_client_sends_it(scaler: Call) -> None:
    status, body = scaler("POST", "/predict", {"instances": [[1, 2, 3]]}, content_type="")
    assert status == 200
    assert body["predictions"] == [{"outputs": {"output": [2.0, 4.0, 6.0]}}]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "the request body is empty: expected a JSON object"),
        (b"[" * 2000, "malformed JSON in the request body: it cannot be parsed (not UTF-8, or nested too deeply)"),
        (b'{"instances": [[1, 2, 3]', "malformed JSON in the request body at character 24: Expecting"),
    ],
)
def test_empty_truncated_and_absurdly_nested_bodies_are_400(scaler: Call, raw: bytes, message: str) -> None:
    status, body = scaler("POST", "/predict", raw=raw)
    assert status == 400
    assert body["error"].startswith(message)


def test_multi_input_models_take_instances_as_objects(tmp_path: Path) -> None:
    call = caller(runtime_for(onnx_models.two_inputs(tmp_path / "two.onnx")).http)
    status, body = call("POST", "/predict", {"instances": [{"a": [1, 2], "b": [10, 20]}]})
    assert status == 200
    assert body["predictions"] == [{"outputs": {"sum": [11.0, 22.0]}}]


def test_before_the_model_is_ready_health_and_model_routes_answer_503() -> None:
    call = caller(unready_adapter())
    assert call("GET", "/health") == (503, {"status": "loading", "live": True, "ready": False})
    assert call("GET", "/v2/health/live") == (200, {"live": True})
    for method, path in [("GET", "/v2/health/ready"), ("GET", "/v2/models/x"), ("POST", "/predict")]:
        status, body = call(method, path, {"instances": [[1]]} if method == "POST" else None)
        assert status == 503, path
        assert "not ready" in body["error"]


def test_an_unexpected_fault_is_logged_and_answered_as_json_without_a_trace(
    scaler: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    logged: list[str] = []
    monkeypatch.setattr("handler.api.errors.logger.exception", lambda message, **_: logged.append(message))

    def explode(*_: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr("handler.dataplane.prediction_dicts", explode)
    status, body = scaler("POST", "/predict", {"instances": [[1, 2, 3]]})
    assert status == 500
    assert body == {"error": "internal error while serving the request; it has been logged"}
    assert logged == ["unhandled error"]
