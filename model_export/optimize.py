"""Offline graph optimisation: save onnxruntime's optimised graph at export time, so Lambda's INIT need not redo it.

Why ``ORT_ENABLE_BASIC`` and not more: basic rewrites (constant folding, redundant node removal,
semantics-preserving fusions) run before graph partitioning and keep a standard ONNX graph that any
onnxruntime build opens. Extended fusions write CPU-provider contrib ops, and some are chosen by the
export CPU (QDQS8ToU8Transformer and Avx2WeightS8ToU8Transformer rewrite int8 graphs according to
its int8 instructions); the layout level writes NCHWc kernels for the export CPU's vector width
(onnxruntime warns that such a file "should only be used in the same environment the model was
optimized in"). One image serves x86_64 and arm64 Lambda, so only the basic level is portable; the
handler still applies the other levels online when it loads the file.

The optimised graph is written only after the parity check passes on it too, and the report carries
the median session-creation time of the original and the optimised graph, as the handler opens them.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from model_export.deps import require
from model_export.errors import UnsupportedModelError
from model_export.graph_edit import tidy_opsets
from model_export.loading import first_line
from model_export.timing import SESSION_RUNS, session_ms

LEVEL = "basic"


@dataclass(frozen=True)
class OptimizationResult:
    """The figures stored under the ``optimization`` metadata_prop and printed by the CLI."""

    level: str
    nodes_before: int
    nodes_after: int
    session_ms_before: float  # median creation time of a fresh session, the handler's options
    session_ms_after: float
    sessions: int  # fresh sessions timed per graph

    def to_dict(self) -> dict[str, Any]:
        """The JSON object stored under ``optimization``."""
        return asdict(self)


def optimize_graph(model: bytes) -> Any:
    """onnxruntime's basic-level optimised graph of ``model``, as an onnx.ModelProto."""
    ort, onnx = require("onnxruntime"), require("onnx")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    with tempfile.TemporaryDirectory(prefix="onnx-lambda-optimize-") as folder:
        options.optimized_model_filepath = str(Path(folder) / "optimized.onnx")
        try:
            ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
            optimized = onnx.load(options.optimized_model_filepath)
        except Exception as exc:  # onnxruntime raises several unrelated types
            raise UnsupportedModelError(f"onnxruntime cannot optimise the graph: {first_line(exc)}") from None
    tidy_opsets(optimized, unused=False)
    return optimized


def measure(original: Any, optimized: Any) -> OptimizationResult:
    """Node counts, and the median time to open each graph as the handler does (interleaved, fresh sessions)."""
    before, after = session_ms([original.SerializeToString(), optimized.SerializeToString()])
    return OptimizationResult(
        level=LEVEL,
        nodes_before=len(original.graph.node),
        nodes_after=len(optimized.graph.node),
        session_ms_before=before,
        session_ms_after=after,
        sessions=SESSION_RUNS,
    )
