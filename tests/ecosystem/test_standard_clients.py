"""GIVEN the real local server (or the real entry point) WHEN standard clients call it exactly as their users do
(Triton's own tritonclient.http, httpx speaking KServe v2 JSON) THEN every
answer is the protocol's, and every prediction is what onnxruntime alone says for the same held-out digits."""

from __future__ import annotations

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

from tests.testkit.server import LocalServer

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
        (lambda c: c.load_model(MODEL), "400", "models are fixed when this function starts"),
        (lambda c: c.unload_model(MODEL), "400", "models are fixed when this function starts"),
        (lambda c: c.get_system_shared_memory_status(), "400", "shared-memory extensions (system and CUDA)"),
        (lambda c: c.register_cuda_shared_memory("r", b"handle", 0, 8), "400", "shared-memory extensions"),
        (lambda c: c.get_trace_settings(MODEL), "400", "trace extension is not served"),
        (lambda c: c.update_log_settings({"log_verbose_level": 1}), "400", "logging extension is not served"),
    ],
    ids=[
        "config-of-an-unknown-model",
        "unknown-model",
        "unknown-version",
        "load",
        "unload",
        "system-shared-memory",
        "cuda-shared-memory",
        "trace",
        "logging",
    ],
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


def test_triton_sequence_and_shared_memory_requests_get_a_clean_refusal(
    client: triton.InferenceServerClient, digits: np.ndarray
) -> None:
    """Answered as if the parameters were absent, a sequence client would believe its state was kept, and a
    shared-memory one would read an empty region: each is told which extension is not served and what to send."""
    with pytest.raises(InferenceServerException) as sequence:
        client.infer(MODEL, [triton_input(digits, binary=True)], sequence_id=7, sequence_start=True)
    region = triton.InferInput("input", list(digits.shape), "FP32")
    region.set_shared_memory("digits", digits.nbytes)
    with pytest.raises(InferenceServerException) as shared:
        client.infer(MODEL, [region])
    assert (sequence.value.status(), shared.value.status()) == ("400", "422")
    assert "sequence extension (sequence_id, sequence_start, sequence_end) is not served" in str(sequence.value)
    assert "input 'input': Triton's shared-memory extensions" in str(shared.value)


def test_triton_async_infer_answers_every_request_with_its_own_result(
    server: LocalServer, digits: np.ndarray, oracle: Oracle
) -> None:
    """async_infer as Triton's simple_http_async_infer_client uses it: several requests in flight on a pool of
    connections, each result read by its handle, each matching its own input."""
    expected = oracle(digits)["label"].tolist()
    with triton.InferenceServerClient(url=urlsplit(server.url).netloc, concurrency=4) as pool:
        handles = [
            pool.async_infer(MODEL, [triton_input(digits[i : i + 1], binary=i % 2 == 0)], request_id=f"r{i}")
            for i in range(len(digits))
        ]
        results = [handle.get_result() for handle in handles]
    assert [result.get_response()["id"] for result in results] == [f"r{i}" for i in range(len(digits))]
    assert [names(result.as_numpy("label"))[0] for result in results] == expected


# --- httpx, KServe v2 JSON ------------------------------------------------------------------------------------

MODEL_PATHS = [f"/v2/models/{MODEL}", f"/v2/models/{MODEL}/versions/{VERSION}"]


def test_kserve_server_routes_answer_json(http: httpx.Client) -> None:
    assert http.get("/v2").json()["extensions"] == ["binary_tensor_data", "statistics", "model_configuration"]
    assert http.get("/v2/health/live").json() == {"live": True}
    assert http.get("/v2/health/ready").json() == {"live": True, "ready": True}


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
