"""GIVEN scikit-learn's bundled digits WHEN `onnx-lambda export digits` runs THEN both default models are
trained to >= 0.95 held-out accuracy, exported with parity checked, and saved with the held-out set: those three
files and nothing else (no int8 model, no optimised graph unless asked for)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from model_export import inspect_model


@pytest.mark.slow
def test_digits_command_writes_both_models_and_the_held_out_set(
    tmp_path: Path,
    cli: Callable[..., subprocess.CompletedProcess[str]],
    read_metadata: Callable[[Path], dict[str, str]],
    run_onnx: Callable[[Path, np.ndarray], dict[str, np.ndarray]],
) -> None:
    result = cli("digits", "--out-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "held-out accuracy" in result.stdout
    test_set = np.load(tmp_path / "digits-test.npz")
    images, labels = test_set["X"], test_set["y"]
    assert (images.dtype, labels.dtype, images.shape[1:], len(images)) == (np.float32, np.int64, (1, 8, 8), 360)
    for name, batch in [("digits-cnn", images), ("digits-sklearn", images.reshape(len(images), 64))]:
        path = tmp_path / f"{name}.onnx"
        meta = read_metadata(path)
        assert meta["model_name"] == name
        assert float(meta["test_accuracy"]) >= 0.95
        assert json.loads(meta["class_labels"]) == [str(digit) for digit in range(10)]
        assert json.loads(meta["parity"])["class_agreement"] == 1.0
        assert "pixel values 0-16" in json.loads(meta["inputs"])["input"]
        assert meta["description"]
        assert inspect_model(path).content_sha256 == "matches"
        served = run_onnx(path, batch)["label"].astype(np.int64)
        assert np.mean(served == labels) == pytest.approx(float(meta["test_accuracy"]), abs=1e-4)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "digits-cnn.onnx",
        "digits-sklearn.onnx",
        "digits-test.npz",
    ]
    assert not {"quantization", "optimization"} & set(read_metadata(tmp_path / "digits-cnn.onnx"))
    assert inspect_model(tmp_path / "digits-cnn.onnx").inputs[0].shape == ("batch", 1, 8, 8)
    assert inspect_model(tmp_path / "digits-sklearn.onnx").inputs[0].shape == ("batch", 64)
