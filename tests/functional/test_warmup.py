"""GIVEN a model whose graph parses its strings (a Cast from string to int64, which fails on "") WHEN it is loaded
without a warm-up request, with one beside it (MODEL.onnx.warmup.json), with one in its metadata_props, with a
broken one, and inside a model folder THEN without one INIT fails saying which model, why and what file to add;
with one it warms up on it and serves; a broken one is named; and in a folder the failure names the model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from handler.errors import ModelLoadError
from handler.model import load_model
from handler.settings import settings_from_env
from tests.testkit import onnx_models
from tests.testkit.invoke import caller, runtime_for

WARMUP = {"inputs": [{"name": "amount", "shape": [1, 1], "datatype": "BYTES", "data": ["42"]}]}


def test_without_a_warm_up_request_init_fails_naming_the_model_the_cause_and_the_file_to_add(tmp_path: Path) -> None:
    path = onnx_models.decimal_strings(tmp_path / "decimals.onnx")
    with pytest.raises(ModelLoadError) as raised:
        load_model(settings_from_env({"MODEL_PATH": str(path)}), "local")
    message = str(raised.value)
    assert f"the warm-up inference on {str(path)!r} failed for one instance" in message
    assert "BYTES input(s) ['amount'] were warmed up with \"\"" in message
    assert "as decimals.onnx.warmup.json beside it" in message


def test_a_warm_up_request_beside_the_model_is_what_it_warms_up_on_and_then_it_serves(tmp_path: Path) -> None:
    path = onnx_models.decimal_strings(tmp_path / "decimals.onnx")
    (tmp_path / "decimals.onnx.warmup.json").write_text(json.dumps(WARMUP))
    call = caller(runtime_for(path).http)
    tensor = {"name": "amount", "shape": [2, 1], "datatype": "BYTES", "data": ["12", "7"]}
    status, answer = call("POST", "/v2/models/decimals/infer", {"inputs": [tensor]})
    assert status == 200, answer
    assert answer["outputs"][0]["data"] == [1200, 700]


def test_a_warm_up_request_in_the_metadata_serves_as_well(tmp_path: Path) -> None:
    path = onnx_models.decimal_strings(tmp_path / "decimals.onnx", metadata={"warmup": json.dumps(WARMUP)})
    model, report = load_model(settings_from_env({"MODEL_PATH": str(path)}), "local")
    assert model.info.name == "decimals"
    assert report.warmup_ms > 0


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("not json", 'is not {"inputs": [...]} of OIP tensors'),
        (
            json.dumps({"inputs": [{"name": "amount", "shape": [1, 1], "datatype": "FP32", "data": [1.0]}]}),
            "does not fit",
        ),
    ],
    ids=["not-json", "wrong-datatype"],
)
def test_a_broken_warm_up_request_is_named_with_what_is_wrong(tmp_path: Path, text: str, words: str) -> None:
    path = onnx_models.decimal_strings(tmp_path / "decimals.onnx")
    (tmp_path / "decimals.onnx.warmup.json").write_text(text)
    with pytest.raises(ModelLoadError, match=r"decimals\.onnx\.warmup\.json") as raised:
        load_model(settings_from_env({"MODEL_PATH": str(path)}), "local")
    assert words in str(raised.value)


def test_in_a_model_folder_the_failure_names_the_model_and_the_fix(tmp_path: Path, default_model: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(default_model, folder / "digits-cnn.onnx")
    onnx_models.decimal_strings(folder / "decimals.onnx")
    with pytest.raises(ModelLoadError) as raised:
        runtime_for(folder)
    assert "decimals.onnx" in str(raised.value)
    assert "decimals.onnx.warmup.json beside it" in str(raised.value)
    (folder / "decimals.onnx.warmup.json").write_text(json.dumps(WARMUP))  # the fix it names
    served = runtime_for(folder, DEFAULT_MODEL="digits-cnn")
    assert served.plane.repository is not None
    assert sorted(served.plane.repository.versions) == ["decimals", "digits-cnn"]
