"""Export-time packages, imported only when a command needs them, with an install hint when absent.

``import model_export`` stays cheap and ``inspect`` works without torch or scikit-learn installed.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from model_export.errors import MissingDependencyError

HINTS = {
    "torch": "PyTorch",
    "sklearn": "scikit-learn",
    "skl2onnx": "skl2onnx",
    "onnx": "onnx",
    "joblib": "joblib",
}


def require(module: str) -> ModuleType:
    """Import ``module`` or raise MissingDependencyError naming the package and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = HINTS.get(module.split(".", maxsplit=1)[0], module)
        raise MissingDependencyError(
            f"{package} is not installed (needed to import {module}): pip install 'onnx-lambda[export]'"
        ) from None
