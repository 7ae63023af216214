"""GIVEN PyTorch modules, from a class plus state_dict file, TorchScript or torch.export WHEN exported THEN
the ONNX file answers label and probabilities like the module for any batch; or the export is refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import onnxruntime as ort
import pytest
import torch

from model_export import NotAModelError, ParityError, ShapeMismatchError, export_torch
from model_export.torch_loading import load_exported, load_torch_class, load_torchscript

RunOnnx = Callable[[Path, np.ndarray], dict[str, np.ndarray]]


class Net(torch.nn.Module):
    """Logits for three classes from four features."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.layer = torch.nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.layer(x)
        return logits


class Branchy(torch.nn.Module):
    """Python control flow on tensor values: tracing keeps only the branch the example took."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.mean() > 0.5:
            return x * 2
        return x - 1


class TwoHeads(torch.nn.Module):
    """A regression module with two outputs of different shapes."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x.sum(dim=1, keepdim=True), x * 3


def _assert_classifier_like(path: Path, module: torch.nn.Module, run_onnx: RunOnnx, features: int = 4) -> None:
    for rows in (1, 37):
        batch = np.random.default_rng(rows).standard_normal((rows, features)).astype(np.float32)
        outputs = run_onnx(path, batch)
        with torch.no_grad():
            logits = module(torch.from_numpy(batch))
        names = json.loads(ort.InferenceSession(str(path)).get_modelmeta().custom_metadata_map["class_labels"])
        assert outputs["label"].shape == (rows,)  # the class names ("0".."n-1" when none were given)
        assert outputs["label"].tolist() == [names[index] for index in logits.argmax(dim=1).tolist()]
        np.testing.assert_allclose(outputs["probabilities"], torch.softmax(logits, dim=1).numpy(), atol=1e-6)


def test_module_class_with_state_dict_file_exports_a_classifier_for_any_batch(
    tmp_path: Path, net_module: Callable[[str], ModuleType], run_onnx: RunOnnx
) -> None:
    nets = net_module("user_nets_a")
    trained = nets.Net(features=4, classes=3)
    torch.save(trained.state_dict(), tmp_path / "weights.pt")
    module = load_torch_class("user_nets_a:Net", tmp_path / "weights.pt", {"features": 4, "classes": 3})
    report = export_torch(module, tmp_path / "net.onnx", input_shape=(1, 4), class_labels=["x", "y", "z"])
    _assert_classifier_like(report.path, trained.eval(), run_onnx)
    assert report.class_labels == ("x", "y", "z")
    assert report.parity.samples == 16 + 3  # 16 generated rows, then a batch of another size


def test_torchscript_file_exports_a_classifier_for_any_batch(tmp_path: Path, run_onnx: RunOnnx) -> None:
    net = Net().eval()
    torch.jit.save(torch.jit.script(net), str(tmp_path / "net.pt"))
    report = export_torch(load_torchscript(tmp_path / "net.pt"), tmp_path / "net.onnx", input_shape=(2, 4))
    _assert_classifier_like(report.path, net, run_onnx)
    assert report.class_labels == ("0", "1", "2")


def test_torch_export_program_exports_a_classifier_for_any_batch(tmp_path: Path, run_onnx: RunOnnx) -> None:
    net = Net().eval()
    batch = torch.export.Dim("batch", min=1)
    program = torch.export.export(net, (torch.randn(2, 4),), dynamic_shapes=({0: batch},))
    torch.export.save(program, str(tmp_path / "net.pt2"))
    report = export_torch(load_exported(tmp_path / "net.pt2"), tmp_path / "net.onnx", input_shape=(2, 4))
    _assert_classifier_like(report.path, net, run_onnx)


def test_torch_export_program_with_a_fixed_batch_is_refused_as_shape_mismatch(tmp_path: Path) -> None:
    program = torch.export.export(Net().eval(), (torch.randn(2, 4),))
    torch.export.save(program, str(tmp_path / "fixed.pt2"))
    with pytest.raises(ShapeMismatchError, match=r"it must accept any batch size along axis 0"):
        export_torch(load_exported(tmp_path / "fixed.pt2"), tmp_path / "fixed.onnx", input_shape=(2, 4))
    assert not (tmp_path / "fixed.onnx").exists()


def test_module_returning_probabilities_gets_no_second_softmax(tmp_path: Path, run_onnx: RunOnnx) -> None:
    module = torch.nn.Sequential(Net(), torch.nn.Softmax(dim=1)).eval()
    report = export_torch(module, tmp_path / "p.onnx", input_shape=(1, 4), outputs_kind="probabilities")
    batch = np.random.default_rng(3).standard_normal((5, 4)).astype(np.float32)
    with torch.no_grad():
        expected = module(torch.from_numpy(batch)).numpy()
    np.testing.assert_allclose(run_onnx(report.path, batch)["probabilities"], expected, atol=1e-6)


def test_module_left_in_training_mode_is_exported_in_eval_mode(tmp_path: Path, run_onnx: RunOnnx) -> None:
    module = torch.nn.Sequential(Net(), torch.nn.Dropout(p=0.5))  # a fresh module is in training mode
    report = export_torch(module, tmp_path / "dropout.onnx", input_shape=(1, 4))
    _assert_classifier_like(report.path, module.eval(), run_onnx)


def test_regression_module_with_two_outputs_names_them_output_0_and_output_1(
    tmp_path: Path, run_onnx: RunOnnx, read_metadata: Callable[[Path], dict[str, str]]
) -> None:
    report = export_torch(TwoHeads(), tmp_path / "two.onnx", input_shape=(1, 4), task="regression")
    outputs = run_onnx(report.path, np.ones((6, 4), dtype=np.float32))
    assert list(outputs) == ["output_0", "output_1"]
    assert outputs["output_0"].shape == (6, 1)
    np.testing.assert_allclose(outputs["output_1"], 3.0)
    meta = read_metadata(report.path)
    assert meta["task"] == "regression"
    assert "class_labels" not in meta
    assert set(json.loads(meta["outputs"])) == {"output_0", "output_1"}


def test_data_dependent_control_flow_is_refused_with_parity_error_and_nothing_written(tmp_path: Path) -> None:
    # The all-ones example takes the `x * 2` branch; generated inputs (mean near 0) take `x - 1`.
    with pytest.raises(ParityError, match=r"nothing was written; hint: tracing records one path") as caught:
        export_torch(Branchy(), tmp_path / "branchy.onnx", example_input=np.ones((1, 4)), task="regression")
    assert "TracerWarning" in str(caught.value)
    assert caught.value.figures["max_abs_diff"] > 0.5
    assert list(tmp_path.iterdir()) == []


def test_example_shape_the_module_cannot_take_is_a_shape_mismatch(tmp_path: Path) -> None:
    with pytest.raises(ShapeMismatchError, match=r"the Net fails on an input of shape \[1, 5\]"):
        export_torch(Net(), tmp_path / "m.onnx", input_shape=(1, 5))


def test_classifier_must_return_one_two_dimensional_tensor(tmp_path: Path) -> None:
    with pytest.raises(ShapeMismatchError, match=r"a classifier must return one tensor \[batch, n_classes\]"):
        export_torch(TwoHeads(), tmp_path / "m.onnx", input_shape=(1, 4))


def test_something_that_is_not_a_module_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotAModelError, match=r"a dict is not a PyTorch model"):
        export_torch({"weights": 1}, tmp_path / "m.onnx", input_shape=(1, 4))  # type: ignore[arg-type]


def test_state_dict_of_another_model_names_missing_and_unexpected_keys(
    tmp_path: Path, net_module: Callable[[str], ModuleType]
) -> None:
    net_module("user_nets_b")
    torch.save(Net().state_dict(), tmp_path / "other.pt")
    with pytest.raises(NotAModelError, match=r"missing keys \[hidden.weight, .*unexpected keys \[layer.weight"):
        load_torch_class("user_nets_b:Net", tmp_path / "other.pt")


def test_state_dict_with_other_shapes_is_a_shape_mismatch(
    tmp_path: Path, net_module: Callable[[str], ModuleType]
) -> None:
    nets = net_module("user_nets_c")
    torch.save(nets.Net(features=5).state_dict(), tmp_path / "five.pt")
    with pytest.raises(ShapeMismatchError, match=r"size mismatch for hidden.weight"):
        load_torch_class("user_nets_c:Net", tmp_path / "five.pt")
