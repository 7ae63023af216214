"""Loading models the way their ecosystems save them, and sample data, with clear errors.

Unpickling (joblib, pickle) runs code from the file: load only files you trust, as with any pickle.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from model_export.deps import require
from model_export.errors import NotAModelError, ShapeMismatchError


def load_sklearn(path: Path) -> Any:
    """A scikit-learn estimator or pipeline from a joblib or pickle file; raises NotAModelError."""
    joblib = require("joblib")
    require("sklearn")
    if not path.is_file():
        raise NotAModelError(f"{path}: no such file")
    try:
        model = joblib.load(path)
    except Exception as exc:  # joblib/pickle raise many unrelated types for a file that is not a pickle
        raise NotAModelError(f"{path} is not a joblib or pickle file of a model: {type(exc).__name__}: {exc}") from None
    if not hasattr(model, "predict"):
        raise NotAModelError(f"{path} holds a {type(model).__name__}, not a scikit-learn model (it has no predict)")
    return model


def load_torch_class(spec: str, state_dict: Path, init_kwargs: dict[str, Any]) -> Any:
    """``package.module:Class`` built with ``init_kwargs`` and loaded with a state_dict (weights only)."""
    torch = require("torch")
    module_name, _, class_name = spec.partition(":")
    if not module_name or not class_name:
        raise NotAModelError(f"--module {spec!r}: expected package.module:ClassName")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise NotAModelError(f"--module {spec!r} cannot be imported: {exc}") from None
    module = cls(**init_kwargs)
    if not isinstance(module, torch.nn.Module):
        raise NotAModelError(f"{spec} builds a {type(module).__name__}, not a torch.nn.Module")
    try:
        weights = torch.load(state_dict, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load raises many types for a file that is not a state_dict
        raise NotAModelError(f"{state_dict} is not a PyTorch state_dict: {type(exc).__name__}: {exc}") from None
    try:
        module.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        raise ShapeMismatchError(f"{state_dict} does not fit {spec}: {exc}") from None
    return module


def load_torchscript(path: Path) -> Any:
    """A TorchScript module saved with torch.jit.save."""
    torch = require("torch")
    try:
        return torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:  # torch.jit.load raises RuntimeError, ValueError, ... for other files
        raise NotAModelError(f"{path} is not a TorchScript file: {type(exc).__name__}: {exc}") from None


def load_exported_program(path: Path) -> Any:
    """The module of a torch.export program saved with torch.export.save (.pt2)."""
    torch = require("torch")
    try:
        return torch.export.load(str(path)).module()
    except Exception as exc:  # torch.export.load raises many types for other files
        raise NotAModelError(f"{path} is not a torch.export (.pt2) file: {type(exc).__name__}: {exc}") from None


def load_sample(path: Path) -> np.ndarray:
    """Sample inputs from .npy or .csv (numeric, optional header), as float32."""
    try:
        if path.suffix == ".npy":
            data = np.load(path, allow_pickle=False)
        else:
            first = path.read_text().splitlines()[0] if path.stat().st_size else ""
            has_header = any(char.isalpha() for char in first.replace("e", "").replace("E", ""))
            data = np.loadtxt(path, delimiter=",", skiprows=1 if has_header else 0, ndmin=2)
    except (OSError, ValueError) as exc:
        raise ShapeMismatchError(f"sample data {path} cannot be read as numbers: {exc}") from None
    if data.size == 0:
        raise ShapeMismatchError(f"sample data {path} is empty")
    return np.asarray(data, dtype=np.float32)


def parse_labels(text: str | None, file: Path | None) -> list[str] | None:
    """Class labels from ``a,b,c`` or a file with one label per line."""
    if file is not None:
        return [line.strip() for line in file.read_text().splitlines() if line.strip()]
    return [label.strip() for label in text.split(",")] if text else None


def parse_kwargs(text: str | None) -> dict[str, Any]:
    """--init-kwargs as a JSON object."""
    if not text:
        return {}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise NotAModelError(f"--init-kwargs must be a JSON object, got {text!r}")
    return value
