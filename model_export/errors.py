"""Typed export errors, so the command line maps each to an exit code and callers can catch one kind.

Every message says what is wrong, where, and what was expected; the command line prints it as one line. The
base and the codes are the contract's (``handler.contract``), shared with the function and the command line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from handler.contract import EXIT_ACCURACY, EXIT_PARITY, OnnxLambdaError


class ExportError(OnnxLambdaError):
    """Base of every error model_export raises on purpose; ``exit_code`` is the command line's exit status (3,
    an input error, unless a subclass says otherwise)."""


class NotAModelError(ExportError):
    """A file is not a loadable model, or an object is not a model (no predict, not an nn.Module)."""


class UnsupportedModelError(ExportError):
    """A real model that the converter (skl2onnx, torch.onnx) or the export contract cannot handle."""


class ShapeMismatchError(ExportError):
    """The example input, sample data, feature count or class labels do not fit the model."""


class MissingDependencyError(ExportError):
    """An optional package the requested export needs is not installed."""


class DataFileError(ExportError):
    """A --sample, --eval-data or --labels-file file cannot be read as what it should hold."""


class CheckFailedError(ExportError):
    """A check on the finished graph failed; ``figures`` holds what it measured, for callers to log."""

    def __init__(self, message: str, figures: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.figures = dict(figures or {})


class ParityError(CheckFailedError):
    """The exported graph disagrees with the source model beyond the tolerance; nothing was written."""

    exit_code: ClassVar[int] = EXIT_PARITY


class AccuracyDropError(CheckFailedError):
    """The int8 model scores worse on the held-out data than the allowed drop; nothing was written."""

    exit_code: ClassVar[int] = EXIT_ACCURACY
