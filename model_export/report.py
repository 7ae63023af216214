"""What an export produced, returned by the API and printed by the CLI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from handler.contract import human_bytes
from model_export.optimize import OptimizationResult
from model_export.parity import ParityResult
from model_export.quantize import QuantizationResult


@dataclass(frozen=True)
class ExportReport:
    """One written model (and its int8 sibling): where, what it is, how closely it matches its source, its hash."""

    path: Path
    model_name: str
    model_version: str
    task: str
    source_framework: str
    converter: str
    opset: int
    inputs: Mapping[str, str]
    outputs: Mapping[str, str]
    class_labels: tuple[str, ...] | None
    parity: ParityResult
    size_bytes: int
    content_sha256: str
    test_accuracy: float | None = None
    notes: tuple[str, ...] = field(default=())
    optimization: OptimizationResult | None = None
    quantized_path: Path | None = None
    quantization: QuantizationResult | None = None


def parity_text(parity: ParityResult) -> str:
    """The parity figures on one line."""
    text = (
        f"{parity.samples} samples, max abs diff {parity.max_abs_diff:.3g}, max rel diff {parity.max_rel_diff:.3g} "
        f"(atol {parity.atol:g}, rtol {parity.rtol:g})"
    )
    if parity.class_agreement is not None:
        text += f", class agreement {parity.class_agreement:.2%}"
    return text


def optimization_text(result: OptimizationResult) -> str:
    """The offline optimisation figures on one line."""
    change = result.session_ms_after / result.session_ms_before - 1
    return (
        f"{result.level} level, {result.nodes_before} -> {result.nodes_after} nodes; session creation "
        f"{result.session_ms_before:.2f} -> {result.session_ms_after:.2f} ms ({change:+.0%}, median of "
        f"{result.sessions} fresh sessions each)"
    )


def quantization_lines(path: Path, result: QuantizationResult) -> list[str]:
    """The int8 file and its size, score and latency figures against the float model."""
    name = "accuracy" if result.metric == "accuracy" else "R²"
    latency = "; ".join(
        f"{item.rows} row{'s' if item.rows > 1 else ''} {item.float_ms:.3f} -> {item.int8_ms:.3f} ms"
        for item in result.latency
    )
    return [
        f"wrote {path} ({human_bytes(result.int8_bytes)}, dynamic int8: {result.quantized_nodes} MatMul/Gemm weights "
        f"as {result.weight_type}{' per channel' if result.per_channel else ''})",
        f"  size     {human_bytes(result.float_bytes)} -> {human_bytes(result.int8_bytes)} "
        f"({result.int8_bytes / result.float_bytes - 1:+.0%})",
        f"  {name:<8} {result.float_score:.4f} -> {result.int8_score:.4f} on {result.samples} held-out samples "
        f"(drop {result.drop:.4f}, allowed {result.max_accuracy_drop:g}); max |int8 - float| {result.max_abs_diff:.3g} "
        f"in {result.compared}",
        f"  latency  {latency} (median session.run, 1 thread)",
    ]


def render_report(report: ExportReport) -> str:
    """A few lines for the terminal: file, model, signature, parity, and any exporter notes."""
    lines = [
        f"wrote {report.path} ({human_bytes(report.size_bytes)}, content sha256 {report.content_sha256[:16]}...)",
        f"  model    {report.model_name} v{report.model_version}: {report.task}, {report.source_framework} "
        f"via {report.converter}, opset {report.opset}",
    ]
    lines += [f"  input    {name}: {text}" for name, text in report.inputs.items()]
    lines += [f"  output   {name}: {text}" for name, text in report.outputs.items()]
    if report.class_labels is not None:
        lines.append(f"  labels   {', '.join(report.class_labels)}")
    lines.append(f"  parity   {parity_text(report.parity)}")
    if report.test_accuracy is not None:
        lines.append(f"  accuracy {report.test_accuracy:.4f} on held-out data")
    if report.optimization is not None:
        lines.append(f"  optimize {optimization_text(report.optimization)}")
    lines += [f"  note     {note}" for note in report.notes]
    if report.quantized_path is not None and report.quantization is not None:
        lines += quantization_lines(report.quantized_path, report.quantization)
    return "\n".join(lines)
