"""PyTorch modules to ONNX through torch.onnx's TorchScript-based exporter (``dynamo=False``).

Why not the dynamo exporter: it needs the onnxscript package, which this project does not depend on,
and the TorchScript exporter handles the eager, TorchScript and torch.export modules users bring. A
classifier is wrapped so the graph answers ``label`` (argmax, int64) and ``probabilities`` (softmax
of the logits, or the module's own probabilities) — the same contract as scikit-learn exports.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from model_export.artifact import ExportReport, finish
from model_export.deps import require
from model_export.errors import NotAModelError, ShapeMismatchError, UnsupportedModelError
from model_export.metadata import ModelCard, checked_labels
from model_export.parity import DEFAULT_TOLERANCE, Tolerance

DEFAULT_OPSET = 17


def _wrap(module: Any, task: str, outputs_kind: str) -> Any:
    torch = require("torch")

    class ClassifierHead(torch.nn.Module):  # type: ignore[misc, name-defined]
        """label = argmax, probabilities = softmax(logits) unless the module already gives probabilities."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = module

        def forward(self, x: Any) -> tuple[Any, Any]:
            scores = self.inner(x)
            probabilities = torch.softmax(scores, dim=1) if outputs_kind == "logits" else scores
            return torch.argmax(scores, dim=1), probabilities

    return ClassifierHead() if task == "classification" else module


def _probe(module: Any, example: Any, task: str) -> tuple[list[str], int]:
    """Run the module once; return its ONNX output names and class count, or raise ShapeMismatchError."""
    torch = require("torch")
    try:
        with torch.no_grad():
            result = module(example)
    except Exception as exc:  # any error means the example does not fit the module
        raise ShapeMismatchError(f"the model cannot run on an input of shape {list(example.shape)}: {exc}") from None
    outputs = result if isinstance(result, tuple | list) else (result,)
    if task == "classification":
        if len(outputs) != 1 or outputs[0].ndim != 2:
            shapes = [list(o.shape) for o in outputs]
            raise ShapeMismatchError(f"a classifier must return one [batch, classes] tensor; it returned {shapes}")
        return ["label", "probabilities"], int(outputs[0].shape[1])
    return (["output"] if len(outputs) == 1 else [f"output_{i}" for i in range(len(outputs))]), 0


def _convert(wrapped: Any, example: Any, names: list[str], opset: int) -> Any:
    torch, onnx = require("torch"), require("onnx")
    buffer = io.BytesIO()
    axes = {name: {0: "batch"} for name in ["input", *names]}  # noqa: C420 - each needs its own dict
    try:
        torch.onnx.export(
            wrapped,
            (example,),
            buffer,
            input_names=["input"],
            output_names=names,
            dynamic_axes=axes,
            opset_version=opset,
            dynamo=False,
        )
    except Exception as exc:  # the exporter raises many types for operators it cannot express
        raise UnsupportedModelError(f"torch.onnx cannot export {type(wrapped).__name__}: {exc}") from None
    return onnx.load_from_string(buffer.getvalue())


def _runner(wrapped: Any, names: list[str], task: str) -> Any:
    torch = require("torch")

    def run(batch: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        with torch.no_grad():
            result = wrapped(torch.from_numpy(batch))
        values = [v.numpy() for v in (result if isinstance(result, tuple | list) else (result,))]
        if task == "classification":
            return {"probabilities": values[1]}, values[0]
        return dict(zip(names, values, strict=True)), None

    return run


def export_torch(
    module: Any,
    path: Path,
    *,
    example_input: np.ndarray | None = None,
    input_shape: tuple[int, ...] | None = None,
    task: str = "classification",
    outputs_kind: str = "logits",
    class_labels: list[str] | None = None,
    model_name: str | None = None,
    model_version: str = "1",
    description: str | None = None,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
    opset: int = DEFAULT_OPSET,
    test_accuracy: float | None = None,
) -> ExportReport:
    """Export, check parity and write; raises NotAModel, Unsupported, ShapeMismatch or Parity errors."""
    torch = require("torch")
    if not isinstance(module, torch.nn.Module | torch.jit.ScriptModule):
        raise NotAModelError(f"a {type(module).__name__} is not a torch.nn.Module")
    module.eval()
    batches = _batches(example_input, input_shape)
    example = torch.from_numpy(batches[0][:2])
    names, class_count = _probe(module, example, task)
    wrapped = _wrap(module, task, outputs_kind).eval()
    onnx_model = _convert(wrapped, example, names, opset)
    classes = [str(i) for i in range(class_count)] if task == "classification" else None
    card = ModelCard(
        name=model_name or path.stem,
        version=model_version,
        task=task,
        inputs={"input": f"float32 [batch, {', '.join(map(str, example.shape[1:]))}]: one instance per row"},
        outputs=_outputs(names, task),
        source_framework="pytorch",
        source_framework_version=str(torch.__version__),
        converter=f"torch.onnx TorchScript exporter {torch.__version__}, opset {opset}",
        class_labels=checked_labels(class_labels, classes),
        description=description,
        test_accuracy=test_accuracy,
    )
    return finish(
        onnx_model, card, run_source=_runner(wrapped, names, task), batches=batches, tolerance=tolerance, path=path
    )


def _batches(example_input: np.ndarray | None, input_shape: tuple[int, ...] | None) -> list[np.ndarray]:
    """The batches parity is checked on: the user's data (or random normal of the shape), and a batch of 5."""
    if example_input is None and input_shape is None:
        raise ShapeMismatchError("give an example input (--sample) or an input shape (--input-shape 1,3,32,32)")
    if example_input is not None:
        main = np.asarray(example_input, dtype=np.float32)
    else:
        shape = tuple(input_shape or ())
        if len(shape) < 2 or min(shape) < 1:
            raise ShapeMismatchError(f"--input-shape {list(shape)}: expected [batch, ...] with positive sizes")
        main = np.random.default_rng(0).normal(size=(16, *shape[1:])).astype(np.float32)
    if main.ndim < 2:
        raise ShapeMismatchError(f"example input of shape {list(main.shape)}: expected [batch, ...]")
    other = np.random.default_rng(1).normal(size=(5, *main.shape[1:])).astype(np.float32) * (main.std() or 1.0)
    return [main, other]


def _outputs(names: list[str], task: str) -> dict[str, str]:
    if task == "classification":
        return {
            "label": "int64 [batch]: index of the predicted class (see class_labels)",
            "probabilities": "float32 [batch, classes]: probability of each class, in class_labels order",
        }
    return dict.fromkeys(names, "float32 [batch, ...]: the module's output")
