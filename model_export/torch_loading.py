"""Read PyTorch models: a module class plus a state_dict, a TorchScript file, or a torch.export program.

Imported only after PyTorch is known to be installed. ``torch.jit.load`` and ``torch.export.load`` can
run code from the file: give them files you trust. State dicts are read with
``torch.load(..., weights_only=True)``, which does not unpickle arbitrary objects.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from model_export.errors import NotAModelError, ShapeMismatchError
from model_export.loading import existing, first_line


def import_attribute(spec: str, flag: str = "--module") -> Any:
    """``package.module:name`` imported from here (the user's own folder first); raises NotAModelError."""
    module_name, _, class_name = spec.partition(":")
    if not module_name or not class_name:
        raise NotAModelError(f"{flag} {spec!r}: expected package.module:Name")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # so a module beside the user's files imports as it does for them
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise NotAModelError(
            f"cannot import {module_name!r} (from {flag} {spec}): {first_line(exc)}; run from the directory "
            "that holds it, or install it"
        ) from None
    if not hasattr(module, class_name):
        raise NotAModelError(f"module {module_name!r} has no {class_name!r} (from {flag} {spec})")
    return getattr(module, class_name)


def _state_dict(path: Path) -> Mapping[str, Any]:
    existing(path, "a state_dict saved with torch.save(model.state_dict(), path)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise NotAModelError(
            f"{path} is not a state_dict torch.load(weights_only=True) can read: {first_line(exc)}; "
            "save one with torch.save(model.state_dict(), path)"
        ) from None
    if not isinstance(state, Mapping) or not all(isinstance(key, str) for key in state):
        raise NotAModelError(f"{path} holds a {type(state).__name__}, not a state_dict (a mapping of names to tensors)")
    return state


def _listed(keys: Sequence[str]) -> str:
    return ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")


def load_torch_class(spec: str, state_dict: Path, init_kwargs: Mapping[str, Any] | None = None) -> torch.nn.Module:
    """``package.module:ClassName(**init_kwargs)`` with weights loaded strictly; raises NotAModelError/ShapeMismatch."""
    factory = import_attribute(spec)
    try:
        module = factory(**dict(init_kwargs or {}))
    except Exception as exc:
        raise NotAModelError(f"{spec}(**{dict(init_kwargs or {})}) failed: {first_line(exc)}") from None
    if not isinstance(module, torch.nn.Module):
        raise NotAModelError(f"{spec} made a {type(module).__name__}, not a torch.nn.Module")
    state = _state_dict(state_dict)
    expected = list(module.state_dict())
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    if missing or unexpected:
        raise NotAModelError(
            f"the state_dict in {state_dict} does not belong to {spec}: missing keys [{_listed(missing)}], "
            f"unexpected keys [{_listed(unexpected)}]"
        )
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        details = "; ".join(line.strip() for line in str(exc).splitlines()[1:] if line.strip())
        raise ShapeMismatchError(f"the state_dict in {state_dict} does not fit {spec}: {details}") from None
    return module


def load_torchscript(path: Path) -> torch.nn.Module:
    """A TorchScript module saved with torch.jit.save (trusted files only); raises NotAModelError."""
    existing(path, "a TorchScript file saved with torch.jit.save")
    try:
        module: torch.nn.Module = torch.jit.load(str(path), map_location="cpu")  # type: ignore[no-untyped-call]
    except Exception as exc:
        raise NotAModelError(f"{path} is not a TorchScript file (torch.jit.save): {first_line(exc)}") from None
    return module


def load_exported(path: Path) -> torch.nn.Module:
    """The module of a torch.export program saved with torch.export.save (.pt2); raises NotAModelError."""
    existing(path, "a torch.export program saved with torch.export.save (.pt2)")
    try:
        return torch.export.load(str(path)).module()
    except Exception as exc:
        raise NotAModelError(f"{path} is not a torch.export program (.pt2): {first_line(exc)}") from None
