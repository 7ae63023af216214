"""GIVEN the real local server (or the real entry point) WHEN standard clients call it exactly as their users do
(Triton's own tritonclient.http, httpx speaking KServe v2 JSON, boto3-shaped invocation payloads) THEN every
answer is the protocol's, and every prediction is what onnxruntime alone says for the same held-out digits."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from handler.dispatch import MalformedEventError, UnsupportedEventError
from handler.local_gateway import LocalContext
from testkit.binary import binary_request, read_binary
from testkit.server import LocalServer

Entry = Callable[[dict[str, Any], Any], dict[str, Any]]
Oracle = Callable[[np.ndarray], dict[str, np.ndarray]]
MODEL, VERSION = "digits-cnn", "1"


@pytest.fixture(scope="module")
def client(server: LocalServer) -> Iterator[triton.InferenceServerClient]:
    """Triton's HTTP client as its documentation builds it: host:port, nothing else."""
    connection = triton.InferenceServerClient(url=urlsplit(server.url).netloc)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def http(server: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as connection:
        yield connection


def triton_input(batch: np.ndarray, *, binary: bool) -> triton.InferInput:
    tensor = triton.InferInput("input", list(batch.shape), "FP32")
    tensor.set_data_from_numpy(batch, binary_data=binary)
    return tensor


# --- tritonclient.http, unchanged -----------------------------------------------------------------------------


def test_triton_client_sees_a_live_ready_server_and_model(client: triton.InferenceServerClient) -> None:
    assert client.is_server_live()
    assert client.is_server_ready()
    assert client.is_model_ready(MODEL)
    assert client.is_model_ready(MODEL, VERSION)
    assert not client.is_model_ready("resnet50")
    assert not client.is_model_ready(MODEL, "7")


def test_triton_client_reads_server_and_model_metadata(
    client: triton.InferenceServerClient, session: ort.InferenceSession
) -> None:
    server = client.get_server_metadata()
    assert server["name"] == "onnx-lambda"
    assert "binary_tensor_data" in server["extensions"]
    for metadata in (client.get_model_metadata(MODEL), client.get_model_metadata(MODEL, VERSION)):
        assert (metadata["name"], metadata["versions"], metadata["platform"]) == (MODEL, [VERSION], "onnxruntime_onnx")
        assert [t["name"] for t in metadata["inputs"]] == [t.name for t in session.get_inputs()]
        assert [t["name"] for t in metadata["outputs"]] == [t.name for t in session.get_outputs()]
        assert [(t["datatype"], t["shape"]) for t in metadata["outputs"]] == [("BYTES", [-1]), ("FP32", [-1, 10])]


@pytest.mark.parametrize(
    ("call", "status", "words"),
    [
        (lambda c: c.get_model_config("resnet50"), "404", "Request for unknown model: 'resnet50'"),
        (lambda c: c.get_model_metadata("resnet50"), "404", "Request for unknown model: 'resnet50' is not served here"),
        (lambda c: c.get_model_metadata(MODEL, "7"), "404", "has no version '7'"),
    ],
    ids=["config-of-an-unknown-model", "unknown-model", "unknown-version"],
)
def test_triton_client_gets_clean_errors_for_what_is_not_served(
    client: triton.InferenceServerClient, call: Callable[[Any], Any], status: str, words: str
) -> None:
    with pytest.raises(InferenceServerException) as caught:
        call(client)
    # The client parsed the server's {"error": ...} itself; a body it cannot read would say "exception occurred".
    assert caught.value.status() == status
    assert words in str(caught.value.message())


def names(labels: np.ndarray) -> list[str]:
    """A BYTES output as tritonclient gives it (bytes from binary data, str from JSON) as text."""
    return [label.decode() if isinstance(label, bytes) else label for label in labels.tolist()]


@pytest.mark.parametrize("input_binary", [False, True], ids=["json-input", "binary-input"])
@pytest.mark.parametrize("output_binary", [False, True], ids=["json-output", "binary-output"])
def test_triton_infer_of_only_the_label_returns_only_onnxruntimes_labels(
    client: triton.InferenceServerClient, digits: np.ndarray, oracle: Oracle, input_binary: bool, output_binary: bool
) -> None:
    wanted = [triton.InferRequestedOutput("label", binary_data=output_binary)]
    result = client.infer(MODEL, [triton_input(digits, binary=input_binary)], outputs=wanted, request_id="t-1")
    response = result.get_response()
    assert response["id"] == "t-1"
    assert [output["name"] for output in response["outputs"]] == ["label"]
    assert result.as_numpy("probabilities") is None
    assert names(result.as_numpy("label")) == oracle(digits)["label"].tolist()


def test_triton_client_reads_a_model_configuration_as_triton_gives_it(client: triton.InferenceServerClient) -> None:
    """What Triton's image client reads before it sends anything: max_batch_size, and each input's type and dims."""
    config = client.get_model_config(MODEL)
    assert (config["name"], config["platform"], config["backend"]) == (MODEL, "onnxruntime_onnx", "onnxruntime")
    assert config["max_batch_size"] == 8192  # MAX_BATCH_SIZE: every axis 0 is dynamic
    assert config["input"] == [{"name": "input", "data_type": "TYPE_FP32", "dims": [1, 8, 8]}]
    assert config["output"] == [
        {"name": "label", "data_type": "TYPE_STRING", "dims": []},
        {"name": "probabilities", "data_type": "TYPE_FP32", "dims": [10]},
    ]
    assert json.loads(config["parameters"]["class_labels"]["string_value"]) == [str(n) for n in range(10)]
    assert client.get_model_config(MODEL, VERSION) == config


def test_triton_client_reads_this_instances_statistics_as_triton_reports_them(
    client: triton.InferenceServerClient, digits: np.ndarray
) -> None:
    """tritonclient's get_inference_statistics (Triton's basic HTTP example calls it): counts since INIT."""

    def figures() -> dict[str, Any]:
        [stat] = client.get_inference_statistics(MODEL)["model_stats"]
        return stat

    before = figures()
    for _ in range(2):
        client.infer(MODEL, [triton_input(digits, binary=True)])
    after = figures()
    assert (after["name"], after["version"]) == (MODEL, VERSION)
    assert after["inference_count"] - before["inference_count"] == 2 * len(digits)
    assert after["execution_count"] - before["execution_count"] == 2
    success = after["inference_stats"]["success"]
    assert success["count"] - before["inference_stats"]["success"]["count"] == 2
    assert success["ns"] > before["inference_stats"]["success"]["ns"]
    assert after["last_inference"] >= before["last_inference"]
    sizes = {entry["batch_size"]: entry for entry in after["batch_stats"]}
    assert sizes[len(digits)]["compute_infer"]["count"] >= 2
    assert "statistics" in client.get_server_metadata()["extensions"]
    everything = client.get_inference_statistics()["model_stats"]
    assert [stat["name"] for stat in everything] == [MODEL]


def test_triton_client_asking_for_a_gzipped_answer_gets_one_it_reads(
    client: triton.InferenceServerClient, digits: np.ndarray, oracle: Oracle
) -> None:
    """response_compression_algorithm sends Accept-Encoding; the client inflates the answer itself."""
    wanted = [triton.InferRequestedOutput("probabilities", binary_data=False)]
    result = client.infer(
        MODEL, [triton_input(digits, binary=False)], outputs=wanted, response_compression_algorithm="gzip"
    )
    np.testing.assert_allclose(result.as_numpy("probabilities"), oracle(digits)["probabilities"], rtol=1e-6)


def test_an_answer_of_a_kilobyte_or_more_is_gzipped_only_for_a_client_that_accepts_it(http: httpx.Client) -> None:
    body = {"instances": [[0.0] * 64] * 32}
    accepted = http.post("/predict", json=body, headers={"accept-encoding": "gzip"})
    plain = http.post("/predict", json=body, headers={"accept-encoding": "identity"})
    assert (accepted.headers.get("content-encoding"), plain.headers.get("content-encoding")) == ("gzip", None)
    assert accepted.json() == plain.json()  # httpx inflates it, as any client that asked does
    assert int(accepted.headers["content-length"]) < int(plain.headers["content-length"]) / 3


@pytest.mark.parametrize("algorithm", ["gzip", "deflate"])
@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_triton_infer_with_a_compressed_request_matches_onnxruntime(
    client: triton.InferenceServerClient, digits: np.ndarray, oracle: Oracle, algorithm: str, binary: bool
) -> None:
    """tritonclient's request_compression_algorithm: the whole body (JSON, and the tensors' bytes) compressed."""
    wanted = [triton.InferRequestedOutput("label", binary_data=binary)]
    result = client.infer(
        MODEL, [triton_input(digits, binary=binary)], outputs=wanted, request_compression_algorithm=algorithm
    )
    assert names(result.as_numpy("label")) == oracle(digits)["label"].tolist()


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_triton_infer_of_every_output_matches_onnxruntime(
    client: triton.InferenceServerClient, digits: np.ndarray, oracle: Oracle, binary: bool
) -> None:
    wanted = [triton.InferRequestedOutput(name, binary_data=binary) for name in ("label", "probabilities")]
    result = client.infer(MODEL, [triton_input(digits, binary=binary)], outputs=wanted, model_version=VERSION)
    expected = oracle(digits)
    assert names(result.as_numpy("label")) == expected["label"].tolist()
    probabilities = result.as_numpy("probabilities")
    assert probabilities.dtype == np.float32
    if binary:  # raw bytes both ways: bit for bit
        np.testing.assert_array_equal(probabilities, expected["probabilities"])
    else:  # through JSON text and back
        np.testing.assert_allclose(probabilities, expected["probabilities"], rtol=1e-6)


def test_triton_class_count_gets_a_clean_400_not_a_silent_full_tensor(
    client: triton.InferenceServerClient, digits: np.ndarray
) -> None:
    # /v2 does not list the classification extension; answering as if class_count were absent would hand the
    # client [n, 10] floats where it expects [n, 3] "score:index:label" strings.
    for binary in (False, True):
        wanted = [triton.InferRequestedOutput("probabilities", binary_data=binary, class_count=3)]
        with pytest.raises(InferenceServerException) as caught:
            client.infer(MODEL, [triton_input(digits, binary=binary)], outputs=wanted)
        assert caught.value.status() == "400"
        assert "parameters.classification" in str(caught.value.message())


# --- httpx, KServe v2 JSON ------------------------------------------------------------------------------------

MODEL_PATHS = [f"/v2/models/{MODEL}", f"/v2/models/{MODEL}/versions/{VERSION}"]


def test_kserve_server_routes_answer_json(http: httpx.Client) -> None:
    assert http.get("/v2").json()["extensions"] == ["binary_tensor_data", "statistics"]
    assert http.get("/v2/health/live").json() == {"live": True}
    assert http.get("/v2/health/ready").json() == {"ready": True}


@pytest.mark.parametrize("base", MODEL_PATHS, ids=["unversioned", "versioned"])
def test_kserve_model_routes_answer_metadata_readiness_and_inference(
    http: httpx.Client, digits: np.ndarray, oracle: Oracle, base: str
) -> None:
    metadata = http.get(base)
    assert metadata.status_code == 200
    assert metadata.headers["content-type"] == "application/json"
    assert metadata.json()["inputs"][0] == {**metadata.json()["inputs"][0], "name": "input", "shape": [-1, 1, 8, 8]}
    assert http.get(f"{base}/ready").json() == {"name": MODEL, "ready": True}
    request = {
        "id": "k-1",
        "inputs": [{"name": "input", "shape": list(digits.shape), "datatype": "FP32", "data": digits.ravel().tolist()}],
    }
    answer = http.post(f"{base}/infer", json=request)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["model_name"], body["model_version"], body["id"]) == (MODEL, VERSION, "k-1")
    outputs = {output["name"]: output for output in body["outputs"]}
    expected = oracle(digits)
    assert outputs["label"]["data"] == expected["label"].tolist()
    assert outputs["probabilities"]["shape"] == [len(digits), 10]
    np.testing.assert_allclose(outputs["probabilities"]["data"], expected["probabilities"].ravel(), rtol=1e-6)


def test_kserve_unknown_model_and_version_are_404_in_the_error_shape(http: httpx.Client) -> None:
    for path in ("/v2/models/resnet50", f"/v2/models/{MODEL}/versions/7/ready"):
        answer = http.get(path)
        assert answer.status_code == 404
        assert set(answer.json()) == {"error"}


# --- boto3-shaped invocation payloads ---------------------------------------------------------------------------


def invoke(entry: Entry, event: Any) -> dict[str, Any]:
    """What boto3's lambda.invoke(Payload=json.dumps(event)) does: the event and the answer each cross as JSON."""
    payload = json.dumps(event).encode("utf-8")
    answer = entry(json.loads(payload), LocalContext())
    parsed: dict[str, Any] = json.loads(json.dumps(answer))
    return parsed


def http_api_v2(
    method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers or {"content-type": "application/json"},
        "requestContext": {"http": {"method": method, "path": path, "sourceIp": "203.0.113.7"}, "stage": "$default"},
        "body": body,
        "isBase64Encoded": False,
    }


def function_url_event(method: str, path: str, body: str | None = None) -> dict[str, Any]:
    event = http_api_v2(method, path, body)
    event["requestContext"]["domainName"] = "abcdefgh.lambda-url.us-east-1.on.aws"
    return event


def rest_api_event(method: str, path: str, body: str | None = None) -> dict[str, Any]:
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"content-type": "application/json"},
        "requestContext": {"stage": "prod", "path": f"/prod{path}", "identity": {"sourceIp": "203.0.113.7"}},
        "body": body,
        "isBase64Encoded": False,
    }


BUILDERS = {"http-api-v2": http_api_v2, "rest-api-v1": rest_api_event, "function-url": function_url_event}


@pytest.mark.parametrize("kind", BUILDERS)
def test_boto3_invoke_with_a_hand_built_event_predicts_and_infers(
    lambda_handler: Entry, digits: np.ndarray, oracle: Oracle, kind: str
) -> None:
    build = BUILDERS[kind]
    expected = oracle(digits)
    assert json.loads(invoke(lambda_handler, build("GET", "/v2/health/ready"))["body"]) == {"ready": True}
    predict = invoke(lambda_handler, build("POST", "/predict", json.dumps({"instances": digits.tolist()})))
    assert predict["statusCode"] == 200, predict
    labels = [p["label"] for p in json.loads(predict["body"])["predictions"]]
    assert labels == expected["label"].tolist()
    request = {"inputs": [{"name": "input", "shape": list(digits.shape), "datatype": "FP32", "data": digits.tolist()}]}
    infer = invoke(lambda_handler, build("POST", f"/v2/models/{MODEL}/infer", json.dumps(request)))
    assert infer["statusCode"] == 200, infer
    outputs = {output["name"]: output["data"] for output in json.loads(infer["body"])["outputs"]}
    assert outputs["label"] == expected["label"].tolist()
    np.testing.assert_allclose(outputs["probabilities"], expected["probabilities"].ravel(), rtol=1e-6)


def test_boto3_invoke_with_binary_tensors_in_base64_gets_base64_tensors_back(
    lambda_handler: Entry, digits: np.ndarray, oracle: Oracle
) -> None:
    request = {"inputs": [{"name": "input", "shape": list(digits.shape), "datatype": "FP32"}]}
    body, length = binary_request({**request, "parameters": {"binary_data_output": True}}, {"input": digits})
    headers = {"content-type": "application/octet-stream", "inference-header-content-length": str(length)}
    event = http_api_v2("POST", f"/v2/models/{MODEL}/infer", base64.b64encode(body).decode(), headers)
    event["isBase64Encoded"] = True
    answer = invoke(lambda_handler, event)
    assert (answer["statusCode"], answer["isBase64Encoded"]) == (200, True)
    header_length = int(answer["headers"]["inference-header-content-length"])
    outputs = {o["name"]: o["data"] for o in read_binary(base64.b64decode(answer["body"]), header_length)["outputs"]}
    np.testing.assert_array_equal(outputs["probabilities"], oracle(digits)["probabilities"].ravel())


@pytest.mark.parametrize(
    "payload",
    [
        {"inputs": [{"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32", "data": [0.0] * 64}]},
        {"instances": [[0.0] * 64]},
        {},
        [1, 2],
        "hello",
        None,
    ],
    ids=["bare-oip-request", "bare-predict-request", "empty-object", "list", "string", "null"],
)
def test_boto3_invoke_with_a_payload_of_no_served_kind_fails_naming_what_is_accepted(
    lambda_handler: Entry, payload: Any
) -> None:
    # Direct invocation has no OIP form of its own: a request body goes inside an HTTP event (or an SQS job).
    with pytest.raises(UnsupportedEventError, match=r"unrecognised event .*this function accepts: .*HTTP API"):
        invoke(lambda_handler, payload)


@pytest.mark.parametrize(
    ("mistake", "words"),
    [
        (lambda e: e.update(body={"instances": [[0.0] * 64]}), "'body' is dict: expected the request body as a string"),
        (lambda e: e["requestContext"]["http"].pop("sourceIp"), "it lacks 'requestContext.http.sourceIp'"),
        (lambda e: e.update(headers={"content-length": 12}), "'headers' must be an object whose values are strings"),
    ],
    ids=["body-not-serialised", "no-source-ip", "numeric-header"],
)
def test_boto3_invoke_with_a_half_built_http_event_fails_saying_what_is_wrong(
    lambda_handler: Entry, mistake: Callable[[dict[str, Any]], Any], words: str
) -> None:
    event = http_api_v2("POST", "/predict", json.dumps({"instances": [[0.0] * 64]}))
    mistake(event)
    with pytest.raises(MalformedEventError, match=r"malformed API Gateway HTTP API \(payload 2.0\) event: ") as caught:
        invoke(lambda_handler, event)
    assert words in str(caught.value)
