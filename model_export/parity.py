"""The parity check every export ends with: source model and onnxruntime, same inputs, compared.

Numbers are compared with numpy's allclose rule (|a - b| <= atol + rtol * |b|); for classifiers the
predicted classes must also agree on at least ``min_class_agreement`` of the rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from model_export.errors import ParityError


@dataclass(frozen=True)
class Tolerance:
    """How close the ONNX model must come to the source model."""

    atol: float = 1e-4
    rtol: float = 1e-3
    min_class_agreement: float = 0.99


DEFAULT_TOLERANCE = Tolerance()


@dataclass(frozen=True)
class ParityReport:
    """What the parity check measured; stored in the model's metadata as JSON."""

    samples: int
    max_abs_diff: float
    max_rel_diff: float
    atol: float
    rtol: float
    class_agreement: float | None

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        return asdict(self)


def compare(
    expected: dict[str, np.ndarray],
    actual: dict[str, np.ndarray],
    tolerance: Tolerance,
    labels: tuple[np.ndarray, np.ndarray] | None = None,
) -> ParityReport:
    """Compare numeric outputs by name, and predicted labels (source, ONNX) when given.

    Raises ParityError with the figures when any output is out of tolerance or labels agree too rarely.
    """
    max_abs = max_rel = 0.0
    failures = []
    for name, want in expected.items():
        want64 = np.asarray(want, dtype=np.float64)
        got64 = np.asarray(actual[name], dtype=np.float64).reshape(want64.shape)
        diff = np.abs(want64 - got64)
        max_abs = max(max_abs, float(diff.max(initial=0.0)))
        max_rel = max(max_rel, float((diff / np.maximum(np.abs(want64), 1e-12)).max(initial=0.0)))
        if not np.allclose(got64, want64, atol=tolerance.atol, rtol=tolerance.rtol):
            failures.append(name)
    agreement = None if labels is None else float(np.mean(np.asarray(labels[0]) == np.asarray(labels[1])))
    samples = len(next(iter(expected.values())))
    report = ParityReport(samples, max_abs, max_rel, tolerance.atol, tolerance.rtol, agreement)
    _raise_if_failed(report, failures, tolerance)
    return report


def _raise_if_failed(report: ParityReport, failures: list[str], tolerance: Tolerance) -> None:
    problems = []
    if failures:
        problems.append(
            f"outputs {failures} differ by up to {report.max_abs_diff:.3g} (relative {report.max_rel_diff:.3g}), "
            f"over atol={tolerance.atol:g} + rtol={tolerance.rtol:g}"
        )
    if report.class_agreement is not None and report.class_agreement < tolerance.min_class_agreement:
        problems.append(
            f"predicted classes agree on {report.class_agreement:.2%} of {report.samples} rows, "
            f"below the required {tolerance.min_class_agreement:.2%}"
        )
    if problems:
        raise ParityError("parity check failed, nothing written: " + "; ".join(problems))


def merge(reports: list[ParityReport]) -> ParityReport:
    """One report for several checked batches: all samples, the worst differences and agreement."""
    agreements = [r.class_agreement for r in reports if r.class_agreement is not None]
    samples = sum(r.samples for r in reports)
    weighted = sum(r.class_agreement * r.samples for r in reports if r.class_agreement is not None)
    return ParityReport(
        samples=samples,
        max_abs_diff=max(r.max_abs_diff for r in reports),
        max_rel_diff=max(r.max_rel_diff for r in reports),
        atol=reports[0].atol,
        rtol=reports[0].rtol,
        class_agreement=weighted / samples if agreements else None,
    )
