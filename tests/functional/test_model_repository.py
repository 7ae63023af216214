"""GIVEN MODEL_PATH naming a directory of models (flat NAME.onnx files and Triton's NAME/VERSION/model.onnx)
WHEN the real runtime serves it THEN every model answers under its own name and versions, the latest version
when none is named, the repository index and server metadata list them all, /predict uses DEFAULT_MODEL, and
a repository that cannot be served as a whole fails INIT naming why.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from handler.errors import ModelLoadError
from tests.testkit import onnx_models
from tests.testkit.invoke import Call, caller, runtime_for

X = [[1.0, 2.0, 3.0]]


@pytest.fixture(scope="module")
def repository(default_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both digits models as flat files, and a scaler in Triton's layout with versions 1 (x2) and 2 (x3)."""
    root = tmp_path_factory.mktemp("repository")
    for name in ("digits-cnn.onnx", "digits-sklearn.onnx"):
        shutil.copy(default_model.parent / name, root / name)
    for version, factor in (("1", 2.0), ("2", 3.0)):
        (root / "scaler" / version).mkdir(parents=True)
        onnx_models.scaler(root / "scaler" / version / "model.onnx", factor=factor)
    return root


@pytest.fixture(scope="module")
def call(repository: Path) -> Call:
    return caller(runtime_for(repository, DEFAULT_MODEL="digits-sklearn").http)


def test_the_index_and_the_server_metadata_list_every_model_version(call: Call) -> None:
    expected = [
        {"name": "digits-cnn", "version": "1", "state": "READY"},
        {"name": "digits-sklearn", "version": "1", "state": "READY"},
        {"name": "scaler", "version": "1", "state": "READY"},
        {"name": "scaler", "version": "2", "state": "READY"},
    ]
    assert call("GET", "/v2/models") == (200, expected)
    assert call("POST", "/v2/repository/index") == (200, expected)  # Triton's form, as tritonclient calls it
    assert call("GET", "/v2")[1]["models"] == ["digits-cnn", "digits-sklearn", "scaler"]
    assert call("GET", "/v2/models/scaler")[1]["versions"] == ["1", "2"]
    assert call("GET", "/v2/models/scaler/versions/1")[1]["versions"] == ["1"]


@pytest.mark.parametrize(
    ("path", "version", "factor"), [("/v2/models/scaler", "2", 3.0), ("/v2/models/scaler/versions/1", "1", 2.0)]
)
def test_a_name_alone_gets_the_latest_version_and_a_version_gets_itself(
    call: Call, path: str, version: str, factor: float
) -> None:
    tensor = {"name": "input", "shape": [1, 3], "datatype": "FP32", "data": X[0]}
    status, body = call("POST", path + "/infer", {"inputs": [tensor]})
    assert status == 200, body
    assert body["model_version"] == version
    assert body["outputs"][0]["data"] == [value * factor for value in X[0]]


@pytest.mark.parametrize("name", ["digits-cnn", "digits-sklearn"])
def test_each_flat_file_answers_under_its_own_name_as_onnxruntime_does(
    call: Call, repository: Path, default_model: Path, name: str
) -> None:
    digits = np.load(default_model.parent / "digits-test.npz")["X"][:3].astype(np.float32)
    session = ort.InferenceSession(str(repository / f"{name}.onnx"), providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    x = digits.reshape(3, *[d if isinstance(d, int) else 1 for d in session.get_inputs()[0].shape[1:]])
    tensor = {"name": input_name, "shape": list(x.shape), "datatype": "FP32", "data": x.ravel().tolist()}
    status, body = call("POST", f"/v2/models/{name}/infer", {"inputs": [tensor], "outputs": [{"name": "label"}]})
    assert status == 200, body
    assert body["outputs"][0]["data"] == session.run(["label"], {input_name: x})[0].tolist()


def test_predict_and_health_serve_the_default_model(call: Call) -> None:
    status, health = call("GET", "/health")
    assert (status, health["model"]["name"]) == (200, "digits-sklearn")
    status, body = call("POST", "/predict", {"instances": [[0.0] * 64]})
    assert (status, body["model_name"]) == (200, "digits-sklearn")


def test_an_unknown_name_or_version_is_404_naming_what_is_served(call: Call) -> None:
    assert call("GET", "/v2/models/resnet/ready") == (
        404,
        {
            "error": "Request for unknown model: 'resnet' is not served here; this endpoint serves 'digits-cnn', "
            "'digits-sklearn', 'scaler'"
        },
    )
    assert call("GET", "/v2/models/scaler/versions/3")[1] == {
        "error": "model 'scaler' has no version '3'; the served versions are '1', '2'"
    }


def test_the_openapi_document_offers_every_served_name(call: Call) -> None:
    _, document = call("GET", "/openapi.json")
    parameters = document["paths"]["/v2/models/{model_name}/infer"]["post"]["parameters"]
    name = next(parameter for parameter in parameters if parameter["name"] == "model_name")
    assert name["schema"]["enum"] == ["digits-cnn", "digits-sklearn", "scaler"]
    assert name["schema"]["example"] == "digits-sklearn"


@pytest.mark.parametrize(
    ("layout", "env", "message"),
    [
        ({}, {}, "is a directory without models: expected NAME.onnx files in it, or Triton's layout"),
        ({"a.onnx": 2.0, "b/1/model.onnx": 3.0}, {"DEFAULT_MODEL": "c"}, "DEFAULT_MODEL='c' is not among the models"),
        ({"a.onnx": 2.0}, {"MODEL_NAME": "x"}, "MODEL_NAME and MODEL_VERSION name a single model file"),
        ({"a.onnx": 2.0, "a/1/model.onnx": 3.0}, {}, "are both model 'a' version '1': give each file its own name"),
        ({"a.onnx": 2.0, "b.onnx": None}, {}, "b.onnx' is not a loadable ONNX model"),
    ],
)
def test_a_repository_that_cannot_be_served_whole_fails_init_saying_why(
    tmp_path: Path, layout: dict[str, float | None], env: dict[str, str], message: str
) -> None:
    for relative, factor in layout.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if factor is None:
            path.write_bytes(b"not a model")
        else:
            onnx_models.scaler(path, factor=factor)
    with pytest.raises(ModelLoadError) as raised:
        runtime_for(tmp_path, **env)
    assert message in str(raised.value)
