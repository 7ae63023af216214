"""Export a PyTorch nn.Module to ONNX with the TorchScript exporter, proven by a parity check.

Why ``torch.onnx.export(..., dynamo=False)``: the dynamo (torch.export-based) exporter needs
onnxscript, which onnx-lambda does not depend on; the TorchScript exporter ships with torch and
handles plain modules, TorchScript modules and torch.export programs alike. It traces one path
through the module, so Python control flow on tensor values is baked in: the parity check runs
generated inputs and a second batch size through both models to catch exactly that, and the
tracer's own warnings are attached to a parity failure as hints.

Classifiers are wrapped to return ``label`` (the argmax's class name, string [batch], looked up in the graph as
skl2onnx's classifiers do) and ``probabilities`` (float32 [batch, n_classes]; softmax is added when the module
returns logits); other modules keep their outputs,
named ``output`` or ``output_0``, ``output_1``, ...
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

import numpy as np

from handler.contract import shape_text
from model_export.deps import require
from model_export.errors import UnsupportedModelError
from model_export.image_export import ImageSpec, Preprocess, check_example, image_spec, read_images
from model_export.metadata import dims_of
from model_export.options import DEFAULT_OPSET, ExportOptions, card_of, tolerance_of, tuning_of
from model_export.parity import ParitySpec, generated_batch, named_batches, named_inputs, parity_batches
from model_export.report import ExportReport
from model_export.writer import finish_export

if TYPE_CHECKING:
    import onnx
    import torch

TASKS = ("classification", "regression")
OUTPUT_KINDS = ("logits", "probabilities")
GENERATED_ROWS = 16


def _output_descriptions(model: onnx.ModelProto, classifier: bool, outputs_kind: str) -> dict[str, str]:
    shapes = {output.name: shape_text(dims_of(output)) for output in model.graph.output}
    if classifier:
        made = "softmax of the module's logits" if outputs_kind == "logits" else "as the module returns them"
        return {
            "label": f"string {shapes['label']}: the most probable class's name (one of class_labels)",
            "probabilities": f"float32 {shapes['probabilities']}: class probabilities ({made}); "
            "column i is class_labels[i]",
        }
    if list(shapes) == ["output"]:
        return {"output": f"float32 {shapes['output']}: the module's output"}
    return {
        name: f"float32 {shape}: output {index} of the module" for index, (name, shape) in enumerate(shapes.items())
    }


def _hints(notes: Sequence[str]) -> tuple[str, ...]:
    traced = [note for note in notes if note.startswith("TracerWarning")]
    if not traced:
        return ()
    return (
        "tracing records one path through the module, so Python control flow on tensor values is baked in; "
        f"the tracer warned: {traced[0]}",
    )


def _parity_spec(names: Sequence[str], classifier: bool, notes: Sequence[str]) -> ParitySpec:
    if classifier:
        return ParitySpec(compare=("probabilities",), label="label", hints=_hints(notes))
    return ParitySpec(compare=tuple(names), hints=_hints(notes))


def _input_descriptions(examples: dict[str, np.ndarray]) -> dict[str, str]:
    """What each named input holds, from its example: dtype and shape, batch first."""
    return {name: f"{example.dtype} {shape_text(['batch', *example.shape[1:]])}" for name, example in examples.items()}


def _check_arguments(task: str, outputs_kind: str) -> None:
    if task not in TASKS:
        raise ValueError(f"task={task!r}: expected one of {', '.join(TASKS)}")
    if outputs_kind not in OUTPUT_KINDS:
        raise ValueError(f"outputs_kind={outputs_kind!r}: expected one of {', '.join(OUTPUT_KINDS)}")


def export_torch(
    module: torch.nn.Module,
    path: str | Path,
    *,
    example_input: Any = None,
    input_shape: Sequence[int] | None = None,
    sample: np.ndarray | None = None,
    task: str = "classification",
    outputs_kind: str = "logits",
    image: ImageSpec | str | None = None,
    images: Sequence[str | Path] | None = None,
    preprocess: Preprocess | None = None,
    **options: Unpack[ExportOptions],
) -> ExportReport:
    """Trace, convert, check parity (sample or generated batches), tune if asked, write; raises an ExportError.

    With ``image`` (an ImageSpec, or "WIDTHxHEIGHT") the module is an image classifier taking float [batch,
    channels, height, width]: the graph takes raw pixels and the server decodes image files (model_export.
    image_export); ``images`` (files or folders) and ``preprocess`` (the user's own PIL -> tensor transform) make
    the parity check's reference."""
    for package in ("torch", "onnx", "onnxruntime"):
        require(package)
    _check_arguments(task, outputs_kind)
    if image is not None:
        contract = image if isinstance(image, ImageSpec) else image_spec(image)
        if task != "classification" or sample is not None or example_input is not None:
            raise ValueError(
                "image= exports a classifier from image files: give neither task=, sample nor example_input"
            )
        check_example(contract, None, input_shape)
        from model_export.image_torch import export_image_classifier  # noqa: PLC0415 - imports torch

        files = read_images(images) if images is not None else None
        return export_image_classifier(
            module, Path(path), contract, images=files, preprocess=preprocess, outputs_kind=outputs_kind, **options
        )
    tuning = tuning_of(options)
    from model_export import torch_convert  # noqa: PLC0415 - imports torch, so only once an export runs

    data = None if sample is None else np.asarray(sample, dtype=np.float32)
    examples = torch_convert.prepare(module, example_input, input_shape, data)
    classifier = task == "classification"
    converted = torch_convert.convert(
        module,
        examples=examples,
        classifier=classifier,
        outputs_kind=outputs_kind,
        labels=options.get("class_labels"),
        opset=options.get("opset", DEFAULT_OPSET),
    )
    card = card_of(
        options,
        Path(path),
        task=task,
        input_default=f"float32 {shape_text(['batch', *converted.instance_shape])}",
        outputs=_output_descriptions(converted.model, classifier, outputs_kind),
        source=("pytorch", torch_convert.TORCH_VERSION, torch_convert.CONVERTER),
        class_labels=converted.class_labels,
        inputs=_input_descriptions(converted.examples) if converted.named_inputs else None,
    )
    spec = _parity_spec(converted.names, classifier, converted.notes)
    if converted.named_inputs:
        if tuning.quantize is not None:
            raise UnsupportedModelError("--quantize int8 judges a one-input model on held-out x: export without it")
        batches: list[Any] = named_batches(converted.examples, GENERATED_ROWS)
        spec = replace(spec, feeds_of=named_inputs)
    else:
        primary = data if data is not None else generated_batch(converted.instance_shape, GENERATED_ROWS)
        batches = parity_batches(primary, converted.example_batch)
    return finish_export(
        converted.model,
        card=card,
        source=converted.source,
        batches=batches,
        spec=spec,
        tolerance=tolerance_of(options),
        path=Path(path),
        tuning=tuning,
        notes=converted.notes,
    )
