"""What a model's warm-up inference at INIT is fed: a request of its own when it has one, else generated values.

A model is warmed up (and its graph proven to run) before it is served. Generated values (zeros, and "" for a
BYTES input) suit most graphs, but not one that parses its strings (a Cast from string to a number fails on "")
or takes only some values. Such a model gives its own warm-up request, in the Open Inference Protocol's JSON
(``{"inputs": [{"name", "shape", "datatype", "data"}]}``, one instance): a file beside it,
``MODEL.onnx.warmup.json``, or the ``warmup`` metadata_prop. A tabular model warms up on a record of its own
column schema (handler.columns).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from handler.codec import decode_tensor
from handler.errors import ModelLoadError, RequestError
from handler.signature import DATATYPE_TO_NUMPY, TensorSpec

WARMUP_SUFFIX = ".warmup.json"


def warmup_file(path: Path) -> Path:
    """Where a model's own warm-up request may be: MODEL.onnx.warmup.json beside it."""
    return path.with_name(path.name + WARMUP_SUFFIX)


def warmup_feeds(inputs: Sequence[TensorSpec], batch: int = 1) -> dict[str, np.ndarray]:
    """All-zero feeds ("" for BYTES): ``batch`` instances where the first dimension is dynamic, other dynamic
    dimensions 1."""
    feeds: dict[str, np.ndarray] = {}
    for spec in inputs:
        dtype = DATATYPE_TO_NUMPY.get(spec.datatype)
        if dtype is None:
            raise ModelLoadError(f"input {spec.describe()} has a type onnxruntime cannot be fed from Python")
        shape = tuple((batch if axis == 0 else 1) if size < 0 else size for axis, size in enumerate(spec.shape))
        feeds[spec.name] = np.full(shape, "", dtype=dtype) if dtype == np.object_ else np.zeros(shape, dtype=dtype)
    return feeds


def given_warmup(path: Path, metadata_value: str | None, inputs: Sequence[TensorSpec]) -> dict[str, np.ndarray] | None:
    """The model's own warm-up request as feeds (the file first, then the metadata_prop), or None when it has none;
    raises ModelLoadError saying where the request is and what is wrong with it."""
    file = warmup_file(path)
    where, text = (
        (str(file), file.read_text(encoding="utf-8")) if file.is_file() else ("metadata_props 'warmup'", metadata_value)
    )
    if text is None:
        return None
    try:
        tensors = json.loads(text)["inputs"]
        specs = {spec.name: spec for spec in inputs}
        feeds = {
            tensor["name"]: decode_tensor(
                tensor["name"], tensor["shape"], tensor["datatype"], tensor["data"], specs.get(tensor["name"])
            )
            for tensor in tensors
        }
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(
            f'the warm-up request in {where} is not {{"inputs": [...]}} of OIP tensors: {exc}'
        ) from None
    except RequestError as exc:
        raise ModelLoadError(f"the warm-up request in {where} does not fit the model: {exc.message}") from None
    return feeds


def repeated(feeds: dict[str, np.ndarray], batch: int) -> dict[str, np.ndarray]:
    """The feeds' instances repeated to ``batch`` along the first axis (for the batch-of-two warm-up)."""
    return {name: np.concatenate([array] * batch) if array.ndim else array for name, array in feeds.items()}


def bytes_hint(inputs: Sequence[TensorSpec], path: Path) -> str:
    """What to do when generated values failed a model with BYTES inputs (they were fed "")."""
    strings = [spec.name for spec in inputs if spec.datatype == "BYTES"]
    if not strings:
        return ""
    return (
        f'; its BYTES input(s) {strings} were warmed up with "": give the model a warm-up request it can take, '
        f'as {warmup_file(path).name} beside it ({{"inputs": [...]}}, one instance in the Open Inference '
        "Protocol's JSON) or the metadata_prop 'warmup'"
    )
