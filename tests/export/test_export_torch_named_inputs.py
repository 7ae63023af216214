"""GIVEN a PyTorch model taking several named inputs (numeric features and a categorical index into an embedding)
WHEN exported from Python with named example inputs, or from the command line with --input NAME:SHAPE:DTYPE,
THEN the graph takes those inputs by name with their own dtypes, answers as the module does, and is served by
name over /predict and the Open Inference Protocol."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from model_export import export_torch
from tests.testkit.invoke import caller, runtime_for

Cli = Callable[..., subprocess.CompletedProcess[str]]

MODULE = """
import torch


class Churn(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.city = torch.nn.Embedding(5, 3)
        self.head = torch.nn.Linear(8 + 3, 2)

    def forward(self, numeric: torch.Tensor, category: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([numeric, self.city(category)], dim=1))
"""


@pytest.fixture
def churn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> torch.nn.Module:
    (tmp_path / "churn_net.py").write_text(MODULE)
    monkeypatch.syspath_prepend(tmp_path)
    import churn_net  # noqa: PLC0415 - written above, as a user's module file

    torch.manual_seed(0)
    module: torch.nn.Module = churn_net.Churn()
    torch.save(module.state_dict(), tmp_path / "weights.pt")
    return module


def test_named_inputs_keep_their_names_and_dtypes_and_answer_as_the_module(
    tmp_path: Path, churn: torch.nn.Module
) -> None:
    example = {"numeric": np.zeros((4, 8), np.float32), "category": np.array([0, 1, 4, 2], dtype=np.int64)}
    report = export_torch(churn, tmp_path / "churn.onnx", example_input=example, class_labels=["stay", "churn"])
    session = ort.InferenceSession(str(report.path), providers=["CPUExecutionProvider"])
    assert [(node.name, node.type) for node in session.get_inputs()] == [
        ("numeric", "tensor(float)"),
        ("category", "tensor(int64)"),
    ]
    numeric = np.random.default_rng(3).standard_normal((6, 8)).astype(np.float32)
    category = np.array([0, 1, 2, 3, 4, 0], dtype=np.int64)
    _, probabilities = session.run(None, {"numeric": numeric, "category": category})
    with torch.no_grad():
        expected = torch.softmax(churn(torch.from_numpy(numeric), torch.from_numpy(category)), dim=1).numpy()
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    assert report.inputs == {"numeric": "float32 [batch, 8]", "category": "int64 [batch]"}
    call = caller(runtime_for(report.path).http)
    status, body = call("POST", "/predict", {"instances": [{"numeric": numeric[0].tolist(), "category": 0}]})
    assert status == 200, body
    assert body["predictions"][0]["probabilities"]["churn"] == pytest.approx(float(expected[0, 1]), abs=1e-5)
    tensors = [
        {"name": "numeric", "shape": [1, 8], "datatype": "FP32", "data": numeric[0].tolist()},
        {"name": "category", "shape": [1], "datatype": "INT64", "data": [0]},
    ]
    status, answer = call("POST", "/v2/models/churn/infer", {"inputs": tensors})
    assert status == 200, answer


def test_the_cli_takes_each_named_input_with_its_shape_and_dtype(
    tmp_path: Path, churn: torch.nn.Module, cli: Cli
) -> None:
    result = cli(
        "torch",
        "--module",
        "churn_net:Churn",
        "--state-dict",
        "weights.pt",
        "--input",
        "numeric:1,8",
        "--input",
        "category:1:int64",
        "-o",
        "churn.onnx",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    session = ort.InferenceSession(str(tmp_path / "churn.onnx"), providers=["CPUExecutionProvider"])
    assert [node.name for node in session.get_inputs()] == ["numeric", "category"]
    assert "input    category: int64 [batch]" in result.stdout
    refused = cli(
        "torch", "--module", "churn_net:Churn", "--state-dict", "weights.pt", "--input", "x:1:complex", cwd=tmp_path
    )
    assert refused.returncode == 2
    assert "dtype 'complex' is not one of float32, int64, int32, bool" in refused.stderr
