"""Dynamic int8 quantization at export time, judged on the user's held-out data before anything is written.

onnxruntime's ``quantize_dynamic`` stores weights as 8-bit integers and quantizes activations per batch
at run time (DynamicQuantizeLinear), so it needs no calibration data; held-out data is still needed to
judge the result. Why these settings:

- ``op_types_to_quantize=["MatMul"]``: the weights of MatMul and Gemm (the quantizer rewrites Gemm, which
  is how torch exports ``nn.Linear`` and skl2onnx an MLP, as MatMul + Add). Conv stays float:
  with ConvInteger the digits CNN ran batches of 32-360 images 2-6x slower than in float, and the
  dense layers hold most of a small CNN's weights (33k of 38k in the digits CNN). Conv-heavy models
  want static quantization, which is out of scope here.
- ``per_channel=True``: one scale per output column; with one scale per tensor the digits CNN lost a
  held-out image.
- ``weight_type=QuantType.QUInt8`` (U8U8; dynamic activations are always uint8): onnxruntime documents
  that U8S8 can saturate on x86-64 CPUs with AVX2/AVX-512 but without VNNI, so the accuracy measured
  on the export machine might not hold on every Lambda host; U8U8 cannot saturate. ``reduce_range``
  (7-bit weights) is the other cure and cost the digits CNN 0.55 points of accuracy.

Both models are scored on the held-out data (``model_export.scoring``: accuracy for classifiers, R²
otherwise), and the largest absolute difference between their outputs is reported. The int8 file is
refused (AccuracyDropError) when the score drops by more than ``max_accuracy_drop`` (absolute).
"""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from handler.contract import MetadataKey as Key
from model_export.deps import require
from model_export.errors import AccuracyDropError, UnsupportedModelError
from model_export.graph_edit import tidy_opsets
from model_export.loading import first_line
from model_export.metadata import ModelCard, content_sha256, metadata_props, stamp
from model_export.parity import ParitySpec
from model_export.scoring import metric_of, predict, score
from model_export.timing import inference_ms, serving_session

QUANTIZED_SUFFIX = ".int8.onnx"
OP_TYPES = ("MatMul",)
WEIGHT_TYPE = "QUInt8"
PER_CHANNEL = True
LATENCY_ROWS = (1, 64)  # a single request, and a batch (or all the held-out rows when there are fewer)
ROUNDING = 1e-9  # 0.99 - 0.98 is 0.010000000000000009 in floats: a drop equal to the allowed one passes
QUANTIZABLE_OPS = frozenset({"MatMul", "Gemm"})
QUANTIZED_OPS = frozenset({"MatMulInteger"})  # what a quantized MatMul or Gemm becomes


@dataclass(frozen=True)
class Latency:
    """Median milliseconds of one session.run on ``rows`` held-out rows, float and int8."""

    rows: int
    float_ms: float
    int8_ms: float


@dataclass(frozen=True)
class QuantizationResult:
    """The figures stored under the int8 file's ``quantization`` metadata_prop and printed by the CLI."""

    method: str
    weight_type: str
    per_channel: bool
    op_types: tuple[str, ...]  # as given to quantize_dynamic; its "MatMul" covers Gemm too
    quantized_nodes: int  # MatMul and Gemm nodes whose weights became int8
    samples: int
    metric: str  # "accuracy" (classifiers) or "r2" (other models)
    float_score: float
    int8_score: float
    drop: float
    max_accuracy_drop: float
    max_abs_diff: float  # largest |int8 - float| in ``compared`` over the held-out data
    compared: str
    float_bytes: int
    int8_bytes: int
    latency: tuple[Latency, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object stored under ``quantization``."""
        return asdict(self)


@dataclass(frozen=True)
class QuantizedModel:
    """The int8 file to write and its figures."""

    data: bytes
    result: QuantizationResult


def quantized_path(path: Path) -> Path:
    """Where the int8 model goes: beside the float one, ``net.onnx`` -> ``net.int8.onnx``."""
    stem = path.name.removesuffix(".onnx")
    return path.with_name(stem + QUANTIZED_SUFFIX)


@contextlib.contextmanager
def _quiet_logging() -> Iterator[None]:
    """Mute the quantizer's root-logger advice (pre-processing hints) so the CLI output stays ours."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)


def _nothing_to_quantize(ops: set[str]) -> UnsupportedModelError:
    return UnsupportedModelError(
        "dynamic int8 quantization found no MatMul or Gemm with constant weights in the graph (its operators: "
        f"{', '.join(sorted(ops))}); export without --quantize"
    )


def _run_quantizer(model: bytes) -> Any:
    """The int8 graph as an onnx.ModelProto; raises UnsupportedModelError when there is nothing to quantize."""
    onnx = require("onnx")
    quantization = require("onnxruntime.quantization")
    source = onnx.load_from_string(model)  # a copy: the quantizer may edit the ModelProto it is given
    if not {node.op_type for node in source.graph.node} & QUANTIZABLE_OPS:
        raise _nothing_to_quantize({node.op_type for node in source.graph.node})
    tidy_opsets(source)
    with tempfile.TemporaryDirectory(prefix="onnx-lambda-int8-") as folder, _quiet_logging():
        target = Path(folder) / "model.int8.onnx"
        try:
            quantization.quantize_dynamic(
                source,
                target,
                op_types_to_quantize=list(OP_TYPES),
                per_channel=PER_CHANNEL,
                weight_type=getattr(quantization.QuantType, WEIGHT_TYPE),
            )
        except Exception as exc:  # the quantizer raises assorted types for graphs it cannot handle
            raise UnsupportedModelError(f"onnxruntime cannot quantize the graph: {first_line(exc)}") from None
        quantized = onnx.load(target)
    if not {node.op_type for node in quantized.graph.node} & QUANTIZED_OPS:  # e.g. every MatMul multiplies activations
        raise _nothing_to_quantize({node.op_type for node in source.graph.node})
    return quantized


def _refusal(result: QuantizationResult) -> str:
    name = "accuracy" if result.metric == "accuracy" else "R²"
    return (
        f"int8 quantization lowers {name} on {result.samples} held-out samples from {result.float_score:.4f} to "
        f"{result.int8_score:.4f} (a drop of {result.drop:.4f}), more than the allowed {result.max_accuracy_drop:g} "
        "(--max-accuracy-drop); nothing was written"
    )


def _with_figures(model: Any, props: Mapping[str, str], result: QuantizationResult) -> tuple[bytes, QuantizationResult]:
    """Stamp the metadata and figures; int8_bytes is the written file's own size, so re-stamp until it is."""
    del model.metadata_props[:]
    data = b""
    for _ in range(4):  # a size's digit count settles after one or two rounds
        stamp(model, {**props, Key.QUANTIZATION: json.dumps(result.to_dict())})
        data = model.SerializeToString()
        if len(data) == result.int8_bytes:
            break
        result = replace(result, int8_bytes=len(data))
    return data, result


def _latencies(sessions: Sequence[Any], x: np.ndarray) -> tuple[Latency, ...]:
    sizes = sorted({min(rows, len(x)) for rows in LATENCY_ROWS})
    return tuple(Latency(rows, *inference_ms(sessions, x[:rows])) for rows in sizes)


def _judge(
    float_model: bytes,
    quantized: Any,
    spec: ParitySpec,
    eval_data: tuple[np.ndarray, np.ndarray],
    *,
    allowed: float,
    labels: Sequence[str] | None,
) -> QuantizationResult:
    """Score both models on the held-out data and refuse past the allowed drop; only then time them."""
    x, y = np.asarray(eval_data[0], dtype=np.float32), np.asarray(eval_data[1])
    sessions = [serving_session(float_model), serving_session(quantized.SerializeToString())]
    before, after = (predict(session, x) for session in sessions)
    scores = [score(outputs, y, spec, labels) for outputs in (before, after)]
    compared = spec.compare[0]
    result = QuantizationResult(
        method="dynamic",
        weight_type=WEIGHT_TYPE,
        per_channel=PER_CHANNEL,
        op_types=OP_TYPES,
        quantized_nodes=sum(node.op_type in QUANTIZED_OPS for node in quantized.graph.node),
        samples=len(x),
        metric=metric_of(spec),
        float_score=scores[0],
        int8_score=scores[1],
        drop=scores[0] - scores[1],
        max_accuracy_drop=allowed,
        max_abs_diff=float(np.max(np.abs(after[compared].astype(np.float64) - before[compared]))),
        compared=compared,
        float_bytes=len(float_model),
        int8_bytes=0,
        latency=(),
    )
    if result.drop > allowed + ROUNDING:
        raise AccuracyDropError(_refusal(result), result.to_dict())
    return replace(result, latency=_latencies(sessions, x))


def quantize_int8(
    float_model: bytes,
    *,
    card: ModelCard,
    spec: ParitySpec,
    eval_data: tuple[np.ndarray, np.ndarray],
    max_accuracy_drop: float,
) -> QuantizedModel:
    """Quantize, score both models on held-out data, time them; raises AccuracyDropError past the allowed drop."""
    metric_of(spec)  # refuse a model we cannot score before spending time on it
    quantized = _run_quantizer(float_model)
    result = _judge(float_model, quantized, spec, eval_data, allowed=max_accuracy_drop, labels=card.class_labels)
    sha256 = content_sha256(quantized)
    int8_card = replace(card, test_accuracy=result.int8_score if result.metric == "accuracy" else None)
    data, result = _with_figures(quantized, metadata_props(int8_card, sha256), result)
    return QuantizedModel(data, result)
