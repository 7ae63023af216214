"""What an export produced, returned by the API and printed by the CLI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from model_export.parity import ParityResult


@dataclass(frozen=True)
class ExportReport:
    """One written model: where, what it is, how closely it matches its source, and its hash."""

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


def human_size(size: int) -> str:
    """Bytes as a person reads them: 42.1 kB."""
    value, unit = float(size), "B"
    for larger in ("kB", "MB", "GB"):
        if value < 1000:
            break
        value, unit = value / 1000, larger
    return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"


def parity_text(parity: ParityResult) -> str:
    """The parity figures on one line."""
    text = (
        f"{parity.samples} samples, max abs diff {parity.max_abs_diff:.3g}, max rel diff {parity.max_rel_diff:.3g} "
        f"(atol {parity.atol:g}, rtol {parity.rtol:g})"
    )
    if parity.class_agreement is not None:
        text += f", class agreement {parity.class_agreement:.2%}"
    return text


def render_report(report: ExportReport) -> str:
    """A few lines for the terminal: file, model, signature, parity, and any exporter notes."""
    lines = [
        f"wrote {report.path} ({human_size(report.size_bytes)}, content sha256 {report.content_sha256[:16]}...)",
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
    lines += [f"  note     {note}" for note in report.notes]
    return "\n".join(lines)
