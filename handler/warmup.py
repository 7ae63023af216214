"""The warm-up inference at INIT, which proves a graph runs before it is served, and what it is fed: a request
of the model's own when it has one, else generated values.

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
from typing import TYPE_CHECKING

import numpy as np
import onnxruntime as ort

from handler.codec import decode_tensor
from handler.columns import example_records, records_to_feeds
from handler.contract import MetadataKey as Key
from handler.errors import ModelLoadError, RequestError, ort_reason
from handler.signature import DATATYPE_TO_NUMPY, TensorSpec

if TYPE_CHECKING:  # handler.model runs the warm-up from its loader
    from handler.model import OnnxModel

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


def batch_axis_proven(parity: str | None) -> bool:
    """The export's parity check ran this graph on a batch of two or more (``batch_sizes`` in its ``parity``
    metadata_prop), so its batch axis is known to be dynamic: INIT skips the second warm-up run, 37 ms of a
    ResNet-18-sized model's cold start (docs/performance.md)."""
    try:
        sizes = json.loads(parity or "{}").get("batch_sizes")
    except (ValueError, AttributeError):
        return False
    return isinstance(sizes, list) and any(isinstance(size, int) and size >= 2 for size in sizes)


def warm_up(model: OnnxModel, path: Path) -> dict[str, np.ndarray]:
    """Run one instance, then two where the batch axis is dynamic and its export did not prove it; raises
    ModelLoadError naming the batch that failed.

    The second run catches a graph that hard-codes a batch of one (``x.view(1, -1)`` in an export) at INIT,
    instead of every request of two instances answering 500. A model's own warm-up request comes first
    (handler.warmup); a tabular model warms up on a record of its own schema (a string column that takes only the
    categories it saw refuses the "" generated values give a BYTES input).
    """
    batches = [1]
    dynamic = any(spec.shape[:1] == (-1,) for spec in model.info.inputs)
    if model.max_batch_size >= 2 and dynamic and not batch_axis_proven(model.info.metadata.get(Key.PARITY)):
        batches.append(2)
    quiet = ort.RunOptions()
    quiet.log_severity_level = 4  # the failure is logged once, by us; onnxruntime would print it again
    names = model.output_names(None)
    results: dict[str, np.ndarray] = {}
    info, given = model.info, given_warmup(path, model.info.metadata.get(Key.WARMUP), model.info.inputs)
    for batch in batches:
        if given is not None:
            feeds = repeated(given, batch)
        elif info.columns is not None:
            feeds = records_to_feeds(example_records(info.columns)[:1] * batch, info.columns, "warm-up")
        else:
            feeds = warmup_feeds(info.inputs, batch)
        try:
            model.check_inputs(feeds)
            results = dict(zip(names, model.session.run(names, feeds, quiet), strict=True))
        except Exception as exc:
            instances = "one instance" if batch == 1 else f"{batch} instances (its first dimension is dynamic)"
            hint = bytes_hint(info.inputs, path) if given is None and info.columns is None else ""
            raise ModelLoadError(
                f"the warm-up inference on {str(path)!r} failed for {instances}: {ort_reason(exc)}{hint}"
            ) from None
    return results
