"""Typed export errors: each says what is wrong, where, and what was expected, and maps to an exit code."""

from __future__ import annotations


class ExportError(Exception):
    """Anything that stops an export; ``exit_code`` is what the command line exits with."""

    exit_code = 3


class NotAModelError(ExportError):
    """The file or object is not a model this tool can load (not a pickle, no predict, not an nn.Module)."""


class UnsupportedModelError(ExportError):
    """The model loaded, but its converter (skl2onnx or torch.onnx) cannot express it in ONNX."""


class ShapeMismatchError(ExportError):
    """The example input or feature count does not fit the model."""


class MissingDependencyError(ExportError):
    """An export-time package (torch, scikit-learn, skl2onnx, onnx) is not installed."""


class ParityError(ExportError):
    """The ONNX model's outputs differ from the source model's beyond the tolerance; nothing was written."""

    exit_code = 4
