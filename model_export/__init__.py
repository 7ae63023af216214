"""Offline export tooling: scikit-learn and PyTorch models to parity-checked, self-describing ONNX.

Heavy packages (torch, scikit-learn, skl2onnx, onnx) are imported only by the functions that use them.
"""

from model_export.artifact import ExportReport
from model_export.errors import (
    ExportError,
    MissingDependencyError,
    NotAModelError,
    ParityError,
    ShapeMismatchError,
    UnsupportedModelError,
)
from model_export.inspect_model import ModelDescription, inspect_model, render_text
from model_export.parity import ParityReport, Tolerance
from model_export.sklearn_export import export_sklearn
from model_export.torch_export import export_torch

__all__ = [
    "ExportError",
    "ExportReport",
    "MissingDependencyError",
    "ModelDescription",
    "NotAModelError",
    "ParityError",
    "ParityReport",
    "ShapeMismatchError",
    "Tolerance",
    "UnsupportedModelError",
    "export_sklearn",
    "export_torch",
    "inspect_model",
    "render_text",
]
