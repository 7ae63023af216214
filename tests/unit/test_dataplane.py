"""GIVEN the data plane of the runtime the entry point builds WHEN a request comes by each carrier (an HTTP route,
JSON or binary; an SQS job; a batch chunk, whole or record by record) THEN the model runs through DataPlane.run
alone, its latency and batch size are recorded once per run, and jobs and batch files never touch the API layer
or synthesise HTTP events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from handler import dataplane
from handler.batch.chunk_scoring import score_chunk
from handler.batch.jobs import JobFailed, answer_job
from handler.batch.records import Chunk
from handler.dataplane import DataPlane
from handler.errors import NotReady
from handler.http_events import http_api_event
from handler.lambda_instance import LocalContext
from handler.model import OnnxModel
from handler.request_bodies import PredictRequest
from handler.runtime import Runtime
from tests.testkit.binary import binary_request
from tests.testkit.invoke import caller, runtime_for
from tests.testkit.process import run_python

IMAGE = [[[float(value % 16) for value in range(row * 8, row * 8 + 8)] for row in range(8)]]


@pytest.fixture(scope="module")
def runtime(default_model: Path) -> Runtime:
    return runtime_for(default_model)


@pytest.fixture
def runs(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, float]]:
    """Every metric the data plane records, and a check that nothing but DataPlane.run calls the model."""
    recorded: list[tuple[str, float]] = []
    monkeypatch.setattr(dataplane.metrics, "add_metric", lambda name, unit, value: recorded.append((name, value)))
    real_infer, real_run = OnnxModel.infer, DataPlane.run
    inside_run = [False]

    def guarded_infer(model: OnnxModel, *args: Any, **kwargs: Any) -> Any:
        assert inside_run[0], "the model ran outside DataPlane.run"
        return real_infer(model, *args, **kwargs)

    def tracked_run(plane: DataPlane, *args: Any, **kwargs: Any) -> Any:
        inside_run[0] = True
        try:
            return real_run(plane, *args, **kwargs)
        finally:
            inside_run[0] = False

    monkeypatch.setattr(OnnxModel, "infer", guarded_infer)
    monkeypatch.setattr(DataPlane, "run", tracked_run)
    return recorded


def batch_sizes(recorded: list[tuple[str, float]]) -> list[float]:
    return [value for name, value in recorded if name == "BatchSize"]


def test_predict_and_infer_over_http_each_run_the_model_once_with_their_batch_size_recorded(
    runtime: Runtime, runs: list[tuple[str, float]]
) -> None:
    call = caller(runtime.http)
    status, body = call("POST", "/predict", {"instances": [IMAGE, IMAGE, IMAGE]})
    assert status == 200
    assert len(body["predictions"]) == 3
    tensor = {"name": "input", "shape": [2, 1, 8, 8], "datatype": "FP32", "data": np.ravel([IMAGE, IMAGE]).tolist()}
    status, body = call("POST", "/v2/models/digits-cnn/infer", {"inputs": [tensor]})
    assert status == 200
    assert body["outputs"]
    assert batch_sizes(runs) == [3, 2]
    assert [name for name, _ in runs].count("InferenceLatency") == 2


def test_a_binary_request_runs_through_the_same_plane(runtime: Runtime, runs: list[tuple[str, float]]) -> None:
    array = np.asarray([IMAGE], dtype=np.float32)
    request = {"inputs": [{"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32"}]}
    body, length = binary_request(request, {"input": array})
    headers = {"content-type": "application/octet-stream", "inference-header-content-length": str(length)}
    target = "/v2/models/digits-cnn/infer"
    event = http_api_event("POST", target=target, headers=headers, body=body, stage="$default", source_ip="1.1.1.1")
    response = runtime.http(event, LocalContext())
    assert response["statusCode"] == 200
    assert batch_sizes(runs) == [1]


def test_a_job_is_answered_by_the_plane_with_the_routes_answer_and_words(
    runtime: Runtime, runs: list[tuple[str, float]]
) -> None:
    route, answer = answer_job(runtime.plane, {"instances": [IMAGE], "top_k": 2})
    status, over_http = caller(runtime.http)("POST", "/predict", {"instances": [IMAGE], "top_k": 2})
    assert (route, status) == ("predict", 200)
    assert answer == over_http
    assert len(answer["predictions"][0]["probabilities"]) == 2
    with pytest.raises(JobFailed) as refused:
        answer_job(runtime.plane, {"instances": [[1.0, 2.0]]})
    _, http_error = caller(runtime.http)("POST", "/predict", {"instances": [[1.0, 2.0]]})
    assert str(refused.value) == f"predict: {http_error['error']}"
    assert refused.value.summary == "predict: refused (BadRequest)"
    with pytest.raises(JobFailed, match=r"^infer: invalid job: inputs\[0\]\.shape: Field required"):
        answer_job(runtime.plane, {"inputs": [{"name": "input", "datatype": "FP32", "data": [1.0]}]})
    assert batch_sizes(runs) == [1, 1]


def test_a_batch_chunk_that_fails_whole_is_scored_record_by_record_and_every_run_is_recorded(
    runtime: Runtime, runs: list[tuple[str, float]]
) -> None:
    good = np.asarray(IMAGE, dtype=np.float32)
    chunk = Chunk(records=[1, 2, 3], ids=[None] * 3, instances=[good, good[:, :, :7], good], extras=[{}] * 3)
    scored = score_chunk(runtime.plane, runtime.plane.find(), chunk)
    records, results = scored.records, scored.results
    assert records == [1, 3]
    assert [error.record for error in chunk.errors] == [2]
    assert results["probabilities"].shape == (2, 10)
    assert batch_sizes(runs) == [1, 1]  # the whole chunk failed before running; records 1 and 3 ran alone


def test_top_k_gives_the_k_most_probable_classes_best_first(runtime: Runtime) -> None:
    full = runtime.plane.predict(PredictRequest(instances=[IMAGE]))["predictions"][0]
    top = runtime.plane.predict(PredictRequest(instances=[IMAGE], top_k=3))["predictions"][0]
    best = sorted(full["probabilities"].items(), key=lambda item: -item[1])[:3]
    assert list(top["probabilities"].items()) == best
    assert (top["label"], top["score"]) == (full["label"], full["score"])
    status, body = caller(runtime.http)("POST", "/predict", {"instances": [IMAGE], "top_k": 0})
    assert status == 422
    assert "top_k" in body["error"]


def test_an_unready_plane_refuses_every_model_lookup() -> None:
    with pytest.raises(NotReady, match="not ready yet"):
        DataPlane().find()
    with pytest.raises(NotReady):
        DataPlane().find("digits-cnn", "1")


def test_the_batch_and_job_code_imports_neither_the_api_layer_nor_the_http_event_builder(default_model: Path) -> None:
    probe = (
        "import sys, json\n"
        "import handler.batch.triggers, handler.batch.jobs, handler.batch.scoring\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('handler.api', 'handler.http_events', "
        "'fastapi', 'mangum')))))\n"
    )
    result = run_python(probe, env={"MODEL_PATH": str(default_model)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
