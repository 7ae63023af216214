"""The PyTorch half of ``export_torch``: probe the module, wrap classifiers, trace to ONNX.

Imported by ``model_export.torch_export`` only after PyTorch is known to be installed. The exporter is
``torch.onnx.export(..., dynamo=False)`` (the TorchScript exporter); see that module for why.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch

from model_export.errors import NotAModelError, ShapeMismatchError, UnsupportedModelError
from model_export.graph_edit import label_names
from model_export.parity import INPUT_NAME, SourcePredict, generated_batch
from model_export.torch_wrappers import ClassifierHead, NamedInputsClassifierHead

TORCH_VERSION = str(torch.__version__)
CONVERTER = f"torch.onnx (TorchScript exporter) {TORCH_VERSION}"
# Warnings that say nothing about the user's model: the TorchScript exporter's deprecation announcements
# (choosing it is deliberate), and its advice for training-mode exports (everything is in eval mode).
_NOT_NOTES = (
    "You are using the legacy TorchScript-based ONNX export",
    "The feature will be removed",
    "It is recommended that constant folding be turned off",
)
_TORCH_DIR = Path(torch.__file__).parent


@dataclass(frozen=True)
class Converted:
    """The traced graph and what the rest of the export needs to know about it."""

    model: onnx.ModelProto
    names: list[str]
    instance_shape: tuple[int, ...]
    example_batch: int
    class_labels: list[str] | None
    notes: tuple[str, ...]
    source: SourcePredict
    examples: dict[str, np.ndarray]  # the tracing example of each input, by graph input name

    @property
    def named_inputs(self) -> bool:
        """Whether the module takes several named inputs (fed as a mapping), not the one ``input``."""
        return list(self.examples) != [INPUT_NAME]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def check_module(module: Any) -> None:
    """Refuse anything that is not an nn.Module; raises NotAModelError."""
    if not isinstance(module, torch.nn.Module):
        raise NotAModelError(f"a {type(module).__name__} is not a PyTorch model: expected a torch.nn.Module")


def example_tensor(example_input: Any, input_shape: Sequence[int] | None, sample: np.ndarray | None) -> torch.Tensor:
    """The tracing example: the given one, a generated one of ``input_shape``, or the sample's first row."""
    if example_input is not None and input_shape is not None:
        raise ValueError("pass either example_input or input_shape, not both")
    if isinstance(example_input, torch.Tensor):
        return example_input.detach().to(dtype=torch.float32, device="cpu")
    if example_input is not None:
        return torch.from_numpy(np.ascontiguousarray(example_input, dtype=np.float32))
    if input_shape is not None:
        shape = tuple(int(size) for size in input_shape)
        if not shape or min(shape) < 1:
            raise ShapeMismatchError(f"input shape {list(shape)} is not a shape: every dimension must be >= 1")
        return torch.from_numpy(generated_batch(shape[1:], shape[0], seed=1))
    if sample is not None:
        return torch.from_numpy(np.ascontiguousarray(sample[:1]))
    raise ValueError("pass example_input, input_shape or sample: the exporter needs the input's shape")


def _named_tensor(name: str, value: Any) -> torch.Tensor:
    """One named example input as a CPU tensor of its own dtype (float32 unless it holds integers or booleans)."""
    tensor = value.detach().cpu() if isinstance(value, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(value))
    if tensor.ndim < 1:
        raise ShapeMismatchError(f"example input {name!r} is a scalar: expected a batch, axis 0 first")
    return tensor if tensor.dtype in (torch.int64, torch.int32, torch.bool) else tensor.to(torch.float32)


def prepare(
    module: Any, example_input: Any, input_shape: Sequence[int] | None, sample: np.ndarray | None
) -> dict[str, torch.Tensor]:
    """Check the module and build the tracing example of each input, by name (``input`` for one unnamed input;
    a mapping of example inputs names them, in the order forward takes them); raises NotAModelError or
    ShapeMismatchError."""
    check_module(module)
    if isinstance(example_input, Mapping):
        if not example_input or input_shape is not None or sample is not None:
            raise ValueError("named example inputs take neither input_shape nor a sample array: give each input")
        return {str(name): _named_tensor(str(name), value) for name, value in example_input.items()}
    example = example_tensor(example_input, input_shape, sample)
    if sample is not None and sample.shape[1:] != tuple(example.shape[1:]):
        expected = ", ".join(str(size) for size in example.shape[1:])
        raise ShapeMismatchError(f"sample data has shape {list(sample.shape)}; expected [rows, {expected}]")
    return {INPUT_NAME: example}


def _shapes(examples: Mapping[str, torch.Tensor]) -> str:
    return ", ".join(f"{name} {list(tensor.shape)}" for name, tensor in examples.items())


def set_eval(module: torch.nn.Module) -> bool:
    """Eval mode (dropout off, batch-norm statistics); False for a torch.export module, which refuses eval()."""
    try:
        module.eval()
    except NotImplementedError:  # its mode was fixed when the program was exported
        for part in module.modules():
            part.training = False  # tells torch.onnx so; the program's graph is already what it is
        return False
    return True


def probe(module: torch.nn.Module, examples: Mapping[str, torch.Tensor]) -> list[torch.Tensor]:
    """Run the module once on the examples in eval mode; raises ShapeMismatchError if they do not fit."""
    set_eval(module)
    try:
        with torch.no_grad():
            result = module(*examples.values())
    except Exception as exc:
        if list(examples) == [INPUT_NAME]:
            given, fix = f"an input of shape {list(examples[INPUT_NAME].shape)}", "the shape"
        else:
            given, fix = f"inputs {_shapes(examples)}", "the shapes (in forward's order)"
        raise ShapeMismatchError(
            f"the {type(module).__name__} fails on {given}: {_first_line(exc)}; give {fix} the module expects, "
            "batch axis first"
        ) from None
    outputs = list(result) if isinstance(result, tuple | list) else [result]
    for position, output in enumerate(outputs):
        if not isinstance(output, torch.Tensor) or output.dtype != torch.float32 or output.ndim < 1:
            found = f"{output.dtype} [{output.ndim}-d]" if isinstance(output, torch.Tensor) else type(output).__name__
            raise UnsupportedModelError(
                f"output {position} of the {type(module).__name__} is {found}; expected float32 tensors, batch first"
            )
    return outputs


def class_labels(module: torch.nn.Module, outputs: list[torch.Tensor], given: Sequence[str] | None) -> list[str]:
    """ "0".."n-1", or the given labels when they number n_classes; raises ShapeMismatchError."""
    if len(outputs) != 1 or outputs[0].ndim != 2:
        shapes = [list(output.shape) for output in outputs]
        raise ShapeMismatchError(
            f"a classifier must return one tensor [batch, n_classes]; the {type(module).__name__} returned {shapes}"
        )
    count = int(outputs[0].shape[1])
    if given is None:
        return [str(index) for index in range(count)]
    if len(given) != count:
        raise ShapeMismatchError(f"{len(given)} class labels were given but the module scores {count} classes")
    return [str(label) for label in given]


def exportable(module: torch.nn.Module, classifier: bool, outputs_kind: str, inputs: int = 1) -> torch.nn.Module:
    """What is traced: the module itself, or wrapped to return (label, probabilities)."""
    if not classifier:
        return module
    if inputs > 1:
        if isinstance(module, torch.jit.ScriptModule):
            raise UnsupportedModelError(
                "a TorchScript classifier with several inputs cannot be wrapped: export it "
                "with task='regression' (its scores as outputs) or as a plain module"
            )
        named: torch.nn.Module = NamedInputsClassifierHead(module, softmax=outputs_kind == "logits")
        set_eval(named)
        return named
    wrapper: torch.nn.Module = ClassifierHead(module, softmax=outputs_kind == "logits")
    if isinstance(module, torch.jit.ScriptModule):
        try:
            wrapper = torch.jit.script(wrapper)  # a TorchScript module can only be called from TorchScript
        except Exception as exc:
            raise UnsupportedModelError(
                f"cannot wrap the TorchScript module as a classifier: {_first_line(exc)}"
            ) from None
    set_eval(wrapper)
    return wrapper


def _run_exporter(
    module: torch.nn.Module, examples: Mapping[str, torch.Tensor], names: list[str], opset: int
) -> onnx.ModelProto:
    with tempfile.TemporaryDirectory(prefix="model_export-") as scratch:
        target = Path(scratch) / "model.onnx"
        torch.onnx.export(
            module,
            tuple(examples.values()),
            str(target),
            dynamo=False,  # the TorchScript exporter: no onnxscript needed
            input_names=list(examples),
            output_names=names,
            dynamic_axes={name: {0: "batch"} for name in [*examples, *names]},
            opset_version=opset,
            external_data=False,
            training=torch.onnx.TrainingMode.EVAL if set_eval(module) else torch.onnx.TrainingMode.PRESERVE,
        )
        return onnx.load(str(target))


def _is_noise(entry: warnings.WarningMessage) -> bool:
    """Exporter boilerplate, or a TracerWarning from torch's own files (a torch.export module's guards)."""
    if str(entry.message).startswith(_NOT_NOTES):
        return True
    return entry.category.__name__ == "TracerWarning" and Path(entry.filename).is_relative_to(_TORCH_DIR)


def trace(
    module: torch.nn.Module, examples: Mapping[str, torch.Tensor], names: list[str], opset: int
) -> tuple[onnx.ModelProto, tuple[str, ...]]:
    """Export with warnings recorded as notes (announcements dropped); raises UnsupportedModelError."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = _run_exporter(module, examples, names, opset)
        except Exception as exc:
            raise UnsupportedModelError(
                f"{CONVERTER} cannot export the {type(module).__name__}: {_first_line(exc)}"
            ) from None
    notes = [
        f"{entry.category.__name__}: {entry.message} ({Path(entry.filename).name}:{entry.lineno})"
        for entry in caught
        if not _is_noise(entry)
    ]
    return model, tuple(dict.fromkeys(notes))


def source_predict(
    module: torch.nn.Module, names: list[str], outputs_kind: str | None, labels: Sequence[str] | None = None
) -> SourcePredict:
    """The user's module as parity sees it; for classifiers, argmax (named by ``labels``) and (for logits) softmax
    in torch."""
    named = np.asarray(labels if labels is not None else [], dtype=object)

    def predict(batch: np.ndarray | Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
        arrays = list(batch.values()) if isinstance(batch, Mapping) else [batch]
        with torch.no_grad():
            result = module(*(torch.from_numpy(np.ascontiguousarray(array)) for array in arrays))
        outputs = list(result) if isinstance(result, tuple | list) else [result]
        if outputs_kind is None:
            return {name: output.numpy() for name, output in zip(names, outputs, strict=True)}
        scores = outputs[0]
        probabilities = torch.softmax(scores, dim=1) if outputs_kind == "logits" else scores
        return {"label": named[torch.argmax(scores, dim=1).numpy()], "probabilities": probabilities.numpy()}

    return predict


def convert(
    module: Any,
    *,
    examples: dict[str, torch.Tensor],
    classifier: bool,
    outputs_kind: str,
    labels: Sequence[str] | None,
    opset: int,
) -> Converted:
    """Probe, name the outputs, wrap and trace; raises ShapeMismatchError or UnsupportedModelError."""
    outputs = probe(module, examples)
    named = class_labels(module, outputs, labels) if classifier else None
    single = ["output"] if len(outputs) == 1 else [f"output_{index}" for index in range(len(outputs))]
    names = ["label", "probabilities"] if classifier else single
    model, notes = trace(exportable(module, classifier, outputs_kind, len(examples)), examples, names, opset)
    if named is not None:
        label_names(model, named)
    first = next(iter(examples.values()))
    return Converted(
        model=model,
        names=names,
        instance_shape=tuple(int(size) for size in first.shape[1:]),
        example_batch=int(first.shape[0]),
        class_labels=named,
        notes=notes,
        source=source_predict(module, names, outputs_kind if classifier else None, named),
        examples={name: tensor.numpy() for name, tensor in examples.items()},
    )
