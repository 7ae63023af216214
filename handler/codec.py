"""JSON <-> numpy for Open Inference Protocol tensors and /predict instances.

Every check on client data happens here, before onnxruntime sees it, and each failure says which
tensor or instance is wrong and what was expected. Conversion is done by numpy on the whole payload at
once (the JSON layer, not the model, is the cost of a request); only when that fails do we walk the
data to point at the offending element.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from handler.errors import BadRequest, Unprocessable
from handler.signature import DATATYPE_TO_NUMPY, TensorSpec

NUMPY_TO_DATATYPE: dict[np.dtype[Any], str] = {dtype: name for name, dtype in DATATYPE_TO_NUMPY.items()}

# numpy dtype kinds a JSON array may arrive as, for each target kind: bools are not numbers, floats
# are not integers, and strings are never numbers.
_ACCEPTED_KINDS = {"b": "b", "i": "iu", "u": "iu", "f": "iuf"}
_KIND_WORDS = {"b": "booleans", "i": "integers", "u": "unsigned integers", "f": "numbers"}


def _fail_ragged(where: str, data: Any) -> None:
    raise BadRequest(
        f"{where}: the data is ragged or mixes types (nested lists must all have the same length "
        f"and hold only {_describe_leaf(data)})"
    )


def _describe_leaf(data: Any) -> str:
    while isinstance(data, list) and data:
        data = data[0]
    return "strings" if isinstance(data, str) else "numbers or booleans"


def _numeric_array(data: Any, dtype: np.dtype[Any], where: str) -> np.ndarray:
    """Convert nested JSON lists to ``dtype``, refusing strings, ragged lists, NaN and out-of-range ints."""
    try:
        array = np.array(data)
    except (ValueError, TypeError, OverflowError):
        _fail_ragged(where, data)
    if array.dtype.kind not in _ACCEPTED_KINDS[dtype.kind]:
        if array.dtype.kind == "O":
            _fail_ragged(where, data)
        found = "strings" if array.dtype.kind in "US" else _KIND_WORDS.get(array.dtype.kind, str(array.dtype))
        raise BadRequest(
            f"{where}: expected {_KIND_WORDS[dtype.kind]} for datatype {NUMPY_TO_DATATYPE[dtype]}, got {found}"
        )
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        index = int(np.flatnonzero(~np.isfinite(array.ravel()))[0])
        raise BadRequest(f"{where}: value at flat index {index} is NaN or Infinity; JSON numbers must be finite")
    if dtype.kind in "iu" and array.size:
        info = np.iinfo(dtype)
        if array.min() < info.min or array.max() > info.max:
            raise BadRequest(f"{where}: values must lie in [{info.min}, {info.max}] for {NUMPY_TO_DATATYPE[dtype]}")
    return array.astype(dtype, copy=False)


def _string_array(data: Any, where: str) -> np.ndarray:
    array = np.array(data, dtype=object)
    flat = array.ravel()
    if not all(isinstance(item, str) for item in flat):
        _fail_ragged(where, data)
    return array


def numpy_dtype(datatype: str, where: str, carrier: str = "JSON") -> np.dtype[Any]:
    """The numpy dtype of a protocol datatype; raises BadRequest naming the datatypes that can be sent."""
    dtype = DATATYPE_TO_NUMPY.get(datatype)
    if dtype is None:
        raise BadRequest(f"{where}: datatype {datatype!r} cannot be sent as {carrier} input; use one of {_datatypes()}")
    return dtype


def json_to_array(data: Any, datatype: str, where: str) -> np.ndarray:
    """Nested or flat JSON data of one protocol datatype as a numpy array (shape as nested)."""
    dtype = numpy_dtype(datatype, where)
    if not isinstance(data, list):
        raise BadRequest(f"{where}: 'data' must be a JSON array (flat or nested)")
    if dtype == np.object_:
        return _string_array(data, where)
    return _numeric_array(data, dtype, where)


def _datatypes() -> str:
    return ", ".join(DATATYPE_TO_NUMPY)


def ensure_new_input(name: str, feeds: Mapping[str, np.ndarray]) -> None:
    """Refuse a second tensor for an input already decoded; the model takes one array per name."""
    if name in feeds:
        raise BadRequest(f"input {name!r} appears more than once in 'inputs'")


def check_declared(name: str, shape: Sequence[int], datatype: str, spec: TensorSpec | None) -> str:
    """What an input declares, checked before its data is read (JSON or binary); returns where it is."""
    where = f"input {name!r}"
    if spec is not None and datatype != spec.datatype:
        raise BadRequest(f"{where} has datatype {datatype!r}: expected {spec.describe()}")
    if any(dim < 0 for dim in shape):
        raise BadRequest(f"{where}: shape {list(shape)} has a negative dimension")
    return where


def decode_tensor(name: str, shape: Sequence[int], datatype: str, data: Any, spec: TensorSpec | None) -> np.ndarray:
    """One protocol request input as an array of its declared shape; raises BadRequest when they disagree."""
    where = check_declared(name, shape, datatype, spec)
    array = json_to_array(data, datatype, where)
    needed = math.prod(shape)
    if array.size != needed:
        raise BadRequest(f"{where}: shape {list(shape)} needs {needed} values but 'data' holds {array.size}")
    return array.reshape(tuple(shape))


def encode_tensor(name: str, array: np.ndarray) -> dict[str, Any]:
    """One output as a protocol response tensor with flat data; raises Unprocessable for NaN/Infinity."""
    datatype = output_datatype(name, array)
    ensure_finite(name, array)
    return {"name": name, "datatype": datatype, "shape": list(array.shape), "data": to_json_list(array.ravel())}


def output_datatype(name: str, array: np.ndarray) -> str:
    """The protocol datatype of an output array; raises Unprocessable for types the protocol lacks."""
    datatype = NUMPY_TO_DATATYPE.get(array.dtype)
    if datatype is None:
        raise Unprocessable(f"output {name!r} has numpy type {array.dtype}, which the protocol cannot carry")
    return datatype


def ensure_finite(name: str, array: np.ndarray) -> None:
    """Refuse to answer NaN or Infinity, which JSON cannot carry; raises Unprocessable."""
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise Unprocessable(f"output {name!r} contains NaN or Infinity, which JSON cannot carry")


def to_json_list(array: np.ndarray) -> Any:
    """An array as JSON-ready nested lists; strings from BYTES tensors are decoded as UTF-8."""
    if array.dtype == np.object_ or array.dtype.kind == "S":
        return np.vectorize(_text, otypes=[object])(array).tolist() if array.size else array.tolist()
    return array.tolist()


def _text(item: Any) -> str:
    return item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)


def instances_to_feeds(instances: list[Any], inputs: Sequence[TensorSpec]) -> dict[str, np.ndarray]:
    """/predict instances (arrays for one-input models, objects keyed by input name otherwise) as feeds."""
    if len(inputs) == 1 and not isinstance(instances[0], dict):
        return {inputs[0].name: _stack_instances(instances, inputs[0], "instances")}
    columns: dict[str, list[Any]] = {spec.name: [] for spec in inputs}
    expected = sorted(columns)
    for position, instance in enumerate(instances):
        if not isinstance(instance, dict) or sorted(instance) != expected:
            raise BadRequest(f"instances[{position}]: expected an object with exactly the inputs {expected}")
        for name, value in instance.items():
            columns[name].append(value)
    return {spec.name: _stack_instances(columns[spec.name], spec, f"instances[*].{spec.name}") for spec in inputs}


def _stack_instances(values: list[Any], spec: TensorSpec, where: str) -> np.ndarray:
    """Stack per-instance values; a flat instance is reshaped when the per-instance shape is fixed."""
    array = json_to_array(values, spec.datatype, where)
    per_instance = spec.shape[1:]
    fixed = len(per_instance) > 1 and -1 not in per_instance
    if fixed and array.ndim == 2 and array.shape[1] == math.prod(per_instance):
        return array.reshape((array.shape[0], *per_instance))
    if array.ndim != len(spec.shape):
        raise BadRequest(
            f"{where}: each instance has shape {list(array.shape[1:])}; expected {spec.describe()} per batch "
            f"(one instance is {list(per_instance)}, nested or flat)"
        )
    return array
