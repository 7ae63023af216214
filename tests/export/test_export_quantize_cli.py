"""GIVEN a scikit-learn or PyTorch model and held-out data WHEN `--quantize int8` asks for a dynamic int8 model THEN
it is written beside the float model when its score holds, refused with exit 5 and no file at all when it drops
more than --max-accuracy-drop, and the command line says plainly when held-out data is missing or unusable."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import joblib
import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier, MLPRegressor

from model_export import AccuracyDropError, UnsupportedModelError, export_sklearn

Cli = Callable[..., subprocess.CompletedProcess[str]]
Data = tuple[np.ndarray, np.ndarray]

NOT_CONVERGED = "ignore::sklearn.exceptions.ConvergenceWarning"  # a few hundred steps are plenty here


def _error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def torch_net(tmp_path: Path, net_module: Callable[[str], ModuleType]) -> list[str]:
    """A saved Net(4 features, 3 classes) and held-out data for it; the torch command's arguments."""
    torch.manual_seed(0)
    torch.save(net_module("quant_nets").Net().state_dict(), tmp_path / "weights.pt")
    x = np.random.default_rng(0).standard_normal((200, 4)).astype(np.float32)
    np.savez(tmp_path / "held_out.npz", x=x, y=(x[:, 0] > 0).astype(np.int64))
    return ["torch", "--module", "quant_nets:Net", "--state-dict", "weights.pt", "--input-shape", "1,4"]


def test_torch_quantize_writes_the_int8_model_beside_the_float_one(
    tmp_path: Path, cli: Cli, torch_net: list[str], read_metadata: Callable[[Path], dict[str, str]]
) -> None:
    result = cli(*torch_net, "-o", "net.onnx", "--quantize", "int8", "--eval-data", "held_out.npz", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "wrote net.int8.onnx (" in result.stdout
    figures = json.loads(read_metadata(tmp_path / "net.int8.onnx")["quantization"])
    assert (figures["samples"], figures["quantized_nodes"], figures["compared"]) == (200, 2, "probabilities")
    assert "quantization" not in read_metadata(tmp_path / "net.onnx")


def test_a_negative_max_accuracy_drop_refuses_with_exit_5_and_writes_nothing(
    tmp_path: Path, cli: Cli, torch_net: list[str]
) -> None:
    result = cli(
        *torch_net,
        "-o",
        "net.onnx",
        "--quantize",
        "int8",
        "--eval-data",
        "held_out.npz",
        "--max-accuracy-drop",
        "-1",
        cwd=tmp_path,
    )
    assert result.returncode == 5
    line = _error_line(result)
    assert line.startswith("error: int8 quantization lowers accuracy on 200 held-out samples from ")
    assert "more than the allowed -1 (--max-accuracy-drop); nothing was written" in line
    assert list(tmp_path.glob("*.onnx")) == []


@pytest.mark.parametrize("command", ["sklearn", "torch"])
def test_quantize_without_eval_data_is_a_usage_error(tmp_path: Path, cli: Cli, command: str) -> None:
    source = ["sklearn", "m.joblib"] if command == "sklearn" else ["torch", "--torchscript", "m.pt"]
    shape = ["--input-shape", "1,4"] if command == "torch" else []
    result = cli(*source, *shape, "-o", "m.onnx", "--quantize", "int8", cwd=tmp_path)
    assert result.returncode == 2
    assert "--quantize int8 needs --eval-data FILE.npz" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_eval_data_without_quantize_is_a_usage_error(cli: Cli) -> None:
    result = cli("sklearn", "m.joblib", "-o", "m.onnx", "--eval-data", "held_out.npz")
    assert result.returncode == 2
    assert "--eval-data and --max-accuracy-drop only apply with --quantize int8" in result.stderr


def test_eval_data_without_y_is_an_input_error(tmp_path: Path, cli: Cli, classification_data: Data) -> None:
    x, y = classification_data
    joblib.dump(LogisticRegression(max_iter=1000).fit(x, y), tmp_path / "clf.joblib")
    np.savez(tmp_path / "x_only.npz", x=x)
    result = cli(
        "sklearn", "clf.joblib", "-o", "m.onnx", "--quantize", "int8", "--eval-data", "x_only.npz", cwd=tmp_path
    )
    assert result.returncode == 3
    assert "x_only.npz holds ['x']: expected arrays x and y" in _error_line(result)


def test_a_graph_without_matmul_has_nothing_to_quantize(tmp_path: Path, classification_data: Data) -> None:
    x, y = classification_data
    model = LogisticRegression(max_iter=1000).fit(x, y)  # skl2onnx writes one LinearClassifier node
    with pytest.raises(UnsupportedModelError, match=r"found no MatMul or Gemm.*LinearClassifier"):
        export_sklearn(model, tmp_path / "m.onnx", sample=x, quantize="int8", eval_data=(x, y))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.filterwarnings(NOT_CONVERGED)
def test_a_classifier_with_string_classes_is_scored_on_its_labels(tmp_path: Path, classification_data: Data) -> None:
    x, y = classification_data
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0).fit(x[:200], y[:200])
    report = export_sklearn(model, tmp_path / "mlp.onnx", sample=x, quantize="int8", eval_data=(x[200:], y[200:]))
    assert report.quantized_path == tmp_path / "mlp.int8.onnx"
    assert report.quantization is not None
    assert report.quantization.float_score == pytest.approx(model.score(x[200:], y[200:]))
    assert report.quantization.metric == "accuracy"


@pytest.mark.filterwarnings(NOT_CONVERGED)
def test_a_regressor_is_judged_by_r2_and_refused_past_the_drop(tmp_path: Path) -> None:
    x = np.random.default_rng(1).standard_normal((300, 5)).astype(np.float32)
    y = x @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.1
    model = MLPRegressor(hidden_layer_sizes=(16,), max_iter=500, random_state=0).fit(x[:200], y[:200])
    with pytest.raises(AccuracyDropError, match=r"lowers R² on 100 held-out samples") as refused:
        export_sklearn(
            model, tmp_path / "reg.onnx", quantize="int8", eval_data=(x[200:], y[200:]), max_accuracy_drop=-1
        )
    assert refused.value.figures["metric"] == "r2"
    assert refused.value.figures["float_score"] == pytest.approx(model.score(x[200:], y[200:]), abs=1e-4)
    assert list(tmp_path.iterdir()) == []
