"""The offline half of onnx-lambda: scikit-learn and PyTorch models to parity-checked, self-describing ONNX.

Importing this package is cheap: torch, scikit-learn, skl2onnx, onnx and onnxruntime are imported by
the functions that need them, and a missing one raises MissingDependencyError with the pip command.
"""

from model_export.errors import (
    AccuracyDropError,
    CheckFailedError,
    DataFileError,
    ExportError,
    MissingDependencyError,
    NotAModelError,
    ParityError,
    ShapeMismatchError,
    UnsupportedModelError,
)
from model_export.inspect_model import ModelDescription, TensorInfo, inspect_model, render_text
from model_export.metadata import EXPORTER_VERSION as __version__
from model_export.optimize import OptimizationResult
from model_export.options import ExportOptions
from model_export.parity import ParityResult, Tolerance
from model_export.quantize import QuantizationResult
from model_export.report import ExportReport, render_report
from model_export.sklearn_export import export_sklearn
from model_export.torch_export import export_torch

__all__ = [
    "AccuracyDropError",
    "CheckFailedError",
    "DataFileError",
    "ExportError",
    "ExportOptions",
    "ExportReport",
    "MissingDependencyError",
    "ModelDescription",
    "NotAModelError",
    "OptimizationResult",
    "ParityError",
    "ParityResult",
    "QuantizationResult",
    "ShapeMismatchError",
    "TensorInfo",
    "Tolerance",
    "UnsupportedModelError",
    "__version__",
    "export_sklearn",
    "export_torch",
    "inspect_model",
    "render_report",
    "render_text",
]
