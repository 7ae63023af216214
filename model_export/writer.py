"""The last steps every export shares: metadata, the parity check, optional tuning, then atomic writes.

Nothing touches the output path until the in-memory model has passed ``onnx.checker`` and the parity
check, so a failed export leaves no file (and an existing file at that path stays as it was). The
optional steps run before any write too: an optimised graph that fails parity, or an int8 model
that loses more accuracy than allowed, fails the whole export and neither file is written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handler.contract import MetadataKey as Key
from handler.contract import write_atomic as write_bytes_atomic
from model_export.deps import require
from model_export.errors import UnsupportedModelError
from model_export.metadata import ModelCard, content_sha256, metadata_props, stamp
from model_export.optimize import OptimizationResult, measure, optimize_graph
from model_export.options import Tuning
from model_export.parity import ParityResult, ParitySpec, SourcePredict, Tolerance, check_parity, open_session
from model_export.quantize import QuantizedModel, quantize_int8, quantized_path
from model_export.report import ExportReport

if TYPE_CHECKING:
    import onnx


def write_atomic(data: bytes, path: Path) -> None:
    """``data`` at ``path``, whole or not at all (handler.contract.write_atomic); raises OSError."""
    write_bytes_atomic(path, lambda stream: stream.write(data))


def default_opset(model: onnx.ModelProto) -> int:
    """The model's opset for the default ('' / ai.onnx) domain."""
    return max((entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")), default=0)


def _check(model: onnx.ModelProto) -> None:
    checker = require("onnx.checker")
    try:
        checker.check_model(model)
    except checker.ValidationError as exc:
        raise UnsupportedModelError(f"the converter produced an invalid ONNX graph: {exc}") from None


OPTIMIZE_HINT = "the failing graph is onnxruntime's optimised one (--optimize); export without it"


def _optimized(
    model: onnx.ModelProto,
    source: SourcePredict,
    batches: Sequence[Any],
    spec: ParitySpec,
    tolerance: Tolerance,
) -> tuple[onnx.ModelProto, ParityResult, OptimizationResult]:
    """The optimised graph, its own parity result (raises ParityError) and its session-creation figures."""
    optimized = optimize_graph(model.SerializeToString())
    _check(optimized)
    hinted = replace(spec, hints=(*spec.hints, OPTIMIZE_HINT))
    parity = check_parity(open_session(optimized.SerializeToString()), source, batches, hinted, tolerance)
    return optimized, parity, measure(model, optimized)


def _described(
    model: onnx.ModelProto, card: ModelCard, parity: ParityResult, optimization: OptimizationResult | None
) -> bytes:
    """The final metadata on the graph that passed parity, serialised: the bytes to write."""
    stamp(model, metadata_props(card, content_sha256(model), parity))
    if optimization is not None:
        stamp(model, {Key.OPTIMIZATION: json.dumps(optimization.to_dict())})
    data: bytes = model.SerializeToString()
    return data


def _quantized(data: bytes, card: ModelCard, spec: ParitySpec, tuning: Tuning) -> QuantizedModel | None:
    """The int8 model when asked for (raises AccuracyDropError past the allowed drop), else None."""
    if tuning.quantize is None or tuning.eval_data is None:
        return None
    return quantize_int8(
        data, card=card, spec=spec, eval_data=tuning.eval_data, max_accuracy_drop=tuning.max_accuracy_drop
    )


def finish_export(
    model: onnx.ModelProto,
    *,
    card: ModelCard,
    source: SourcePredict,
    batches: Sequence[Any],
    spec: ParitySpec,
    tolerance: Tolerance,
    path: Path,
    notes: tuple[str, ...] = (),
    tuning: Tuning | None = None,
) -> ExportReport:
    """Check, describe, prove parity, tune, then write atomically; raises an ExportError and writes nothing."""
    tuning = tuning or Tuning()
    _check(model)
    stamp(model, metadata_props(card, content_sha256(model)))
    parity = check_parity(open_session(model.SerializeToString()), source, batches, spec, tolerance)
    optimization = None
    if tuning.optimize:
        model, parity, optimization = _optimized(model, source, batches, spec, tolerance)
    data = _described(model, card, parity, optimization)
    quantized = _quantized(data, card, spec, tuning)
    write_atomic(data, path)
    if quantized is not None:
        write_atomic(quantized.data, quantized_path(path))
    return ExportReport(
        path=path,
        model_name=card.model_name,
        model_version=card.model_version,
        task=card.task,
        source_framework=card.source_framework,
        converter=card.converter,
        opset=default_opset(model),
        inputs=dict(card.inputs),
        outputs=dict(card.outputs),
        class_labels=tuple(card.class_labels) if card.class_labels is not None else None,
        parity=parity,
        size_bytes=len(data),
        content_sha256=content_sha256(model),
        test_accuracy=card.test_accuracy,
        notes=notes,
        optimization=optimization,
        quantized_path=quantized_path(path) if quantized is not None else None,
        quantization=quantized.result if quantized is not None else None,
    )
