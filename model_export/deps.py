"""One place that imports the heavy, optional export packages, so a missing one is a clear error.

``import model_export`` and ``python -m model_export inspect`` must work without torch or
scikit-learn, so functions call :func:`require` for what they need (its module object doubles as the
import for untyped packages). Modules that import torch at their top (torch_convert, torch_loading,
torch_wrappers, digits_torch) are themselves imported only after ``require("torch")``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from model_export.errors import MissingDependencyError

INSTALL_HINT = "pip install 'onnx-lambda[export]'"

# Import name -> the name a person knows the package by.
PACKAGES: dict[str, str] = {
    "torch": "PyTorch",
    "sklearn": "scikit-learn",
    "skl2onnx": "skl2onnx",
    "onnx": "onnx",
    "joblib": "joblib",
    "onnxruntime": "onnxruntime",
}


def require(name: str) -> ModuleType:
    """Import an optional package (or one of its modules); raises MissingDependencyError with the pip hint."""
    try:
        return importlib.import_module(name)
    except ImportError:
        package = name.split(".", maxsplit=1)[0]
        human = PACKAGES.get(package, package)
        raise MissingDependencyError(f"{human} is not installed: {INSTALL_HINT}") from None
