"""JSON <-> numpy for Open Inference Protocol tensors and /predict instances.

Every check on client data happens here, before onnxruntime sees it, and each failure says which
tensor or instance is wrong and what was expected. Conversion is done by numpy on the whole payload at
once (the JSON layer, not the model, is the cost of a request); only when that fails do we walk the
data to point at the offending element.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NoReturn

import numpy as np

from handler.errors import BadRequest, Unprocessable
from handler.signature import DATATYPE_TO_NUMPY, TensorSpec

NUMPY_TO_DATATYPE: dict[np.dtype[Any], str] = {dtype: name for name, dtype in DATATYPE_TO_NUMPY.items()}

# numpy dtype kinds a JSON array may arrive as, for each target kind: bools are not numbers, floats
# are not integers, and strings are never numbers.
_ACCEPTED_KINDS = {"b": "b", "i": "iu", "u": "iu", "f": "iuf"}
_KIND_WORDS = {"b": "booleans", "i": "integers", "u": "unsigned integers", "f": "numbers"}

# numpy's NPY_MAXDIMS: a shape with more dimensions can never become an array, whatever its data.
MAX_DIMS = 64


def _fail_ragged(where: str, data: Any) -> NoReturn:
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
    if array.size == 0 and array.dtype.kind == "f":  # numpy makes float64 of [] and [[], []], whatever was meant
        return array.astype(dtype)
    if array.dtype.kind == "O":
        array = _wide_integers(data, array, dtype, where)
    if array.dtype.kind not in _ACCEPTED_KINDS[dtype.kind]:
        integers = _mixed_integers(data, dtype, where) if dtype.kind in "iu" and array.dtype.kind == "f" else None
        if integers is not None:
            return integers
        _fail_kind(where, data, array.dtype, dtype)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        index = int(np.flatnonzero(~np.isfinite(array.ravel()))[0])
        raise BadRequest(f"{where}: value at flat index {index} is NaN or Infinity; JSON numbers must be finite")
    if dtype.kind in "iu" and array.size:
        info = np.iinfo(dtype)
        if array.min() < info.min or array.max() > info.max:
            _fail_range(where, dtype)
    return _narrowed(array, dtype, where)


def _fail_kind(where: str, data: Any, found: np.dtype[Any], dtype: np.dtype[Any]) -> NoReturn:
    if found.kind == "O":
        _fail_ragged(where, data)
    words = "strings" if found.kind in "US" else _KIND_WORDS.get(found.kind, str(found))
    raise BadRequest(
        f"{where}: expected {_KIND_WORDS[dtype.kind]} for datatype {NUMPY_TO_DATATYPE[dtype]}, got {words}"
    )


def _mixed_integers(data: Any, dtype: np.dtype[Any], where: str) -> np.ndarray | None:
    """Integers that numpy made floats of, because neither int64 nor uint64 holds them all (2**63 and 0, or
    2**63 and -1), converted exactly, or refused if out of range; None when they are not all integers."""
    items = np.array(data, dtype=object)
    if not all(type(item) is int for item in items.flat):
        return None
    info = np.iinfo(dtype)
    if min(items.flat) < info.min or max(items.flat) > info.max:
        _fail_range(where, dtype)
    return items.astype(dtype)


def _wide_integers(data: Any, array: np.ndarray, dtype: np.dtype[Any], where: str) -> np.ndarray:
    """Integers past 64 bits, which numpy keeps as Python objects: out of range for every integer datatype,
    but numbers a float tensor can take (1e30 written out in digits); anything else stays as it was."""
    if array.ndim == 0 or not all(type(item) is int for item in array.flat):
        return array
    if dtype.kind != "f":
        _fail_range(where, dtype)
    try:
        return array.astype(np.float64)
    except OverflowError:
        raise BadRequest(
            f"{where}: an integer is out of range for {NUMPY_TO_DATATYPE[dtype]}: expected values within "
            f"±{float(np.finfo(dtype).max):g}"
        ) from None


def _fail_range(where: str, dtype: np.dtype[Any]) -> NoReturn:
    info = np.iinfo(dtype)
    raise BadRequest(f"{where}: values must lie in [{info.min}, {info.max}] for {NUMPY_TO_DATATYPE[dtype]}")


def _narrowed(array: np.ndarray, dtype: np.dtype[Any], where: str) -> np.ndarray:
    """The cast to ``dtype``; a finite number past FP16's or FP32's range would become Infinity with only a
    RuntimeWarning (and the model would run on it), so it is refused as an integer out of range is."""
    with np.errstate(over="ignore"):
        result = array.astype(dtype, copy=False)
    if dtype.kind == "f" and result.dtype != array.dtype and not np.isfinite(result).all():
        index = int(np.flatnonzero(~np.isfinite(result.ravel()))[0])
        raise BadRequest(
            f"{where}: value {array.ravel()[index]} at flat index {index} is out of range for "
            f"{NUMPY_TO_DATATYPE[dtype]}: expected values within ±{float(np.finfo(dtype).max):g}"
        )
    return result


def _string_array(data: Any, where: str) -> np.ndarray:
    array = np.array(data, dtype=object)
    flat = array.ravel()
    if not all(isinstance(item, str) for item in flat):
        _fail_ragged(where, data)
    try:  # json.loads lets "\ud800" through as a lone surrogate: not text, and onnxruntime cannot take it
        "".join(flat).encode("utf-8")
    except UnicodeEncodeError:
        index = next(index for index, item in enumerate(flat) if not _is_unicode_text(item))
        raise BadRequest(
            f"{where}: BYTES element at flat index {index} holds a lone surrogate (an unpaired \\ud800-\\udfff "
            "escape); expected text that is valid UTF-8, which onnxruntime's string tensors need"
        ) from None
    return array


def _is_unicode_text(item: str) -> bool:
    try:
        item.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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


def numbers_to_array(numbers: np.ndarray, datatype: str, where: str) -> np.ndarray:
    """Numbers already read into an array (a CSV chunk's cells, by numpy's float() rules) checked and cast
    exactly as the same numbers sent as JSON are."""
    return _numeric_array(numbers, numpy_dtype(datatype, where), where)


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
    if len(shape) > MAX_DIMS:
        raise BadRequest(f"{where}: shape has {len(shape)} dimensions; expected at most {MAX_DIMS}")
    return where


def shaped(array: np.ndarray, shape: Sequence[int], where: str) -> np.ndarray:
    """``array`` in its declared shape, once the element counts agree. Only a shape without elements can still
    fail: numpy refuses one whose other dimensions multiply past what it can address, e.g. [0, 2**62, 4]."""
    try:
        return array.reshape(tuple(shape))
    except (ValueError, OverflowError):
        raise BadRequest(
            f"{where}: shape {list(shape)} is too large for an array even without elements: expected its "
            f"dimensions other than 0, times {array.itemsize} bytes per element, to multiply to less than 2**63"
        ) from None


def decode_tensor(name: str, shape: Sequence[int], datatype: str, data: Any, spec: TensorSpec | None) -> np.ndarray:
    """One protocol request input as an array of its declared shape; raises BadRequest when they disagree."""
    where = check_declared(name, shape, datatype, spec)
    array = json_to_array(data, datatype, where)
    needed = math.prod(shape)
    if array.size != needed:
        raise BadRequest(f"{where}: shape {list(shape)} needs {needed} values but 'data' holds {array.size}")
    return shaped(array, shape, where)


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
    if array.dtype.kind == "S" or (array.dtype == np.object_ and not only_strings(array.flat)):
        return np.vectorize(_text, otypes=[object])(array).tolist() if array.size else array.tolist()
    # Strings (what ONNX string outputs give) are their own JSON form: 256 labels 37 -> 9 us without the per-item call.
    return array.tolist()


def only_strings(items: Iterable[Any]) -> bool:
    """Every item is exactly a ``str`` (what onnxruntime gives for a string output): then it is its own JSON text
    and its own BYTES element's text, with no per-item conversion."""
    return set(map(type, items)) <= {str}


def _text(item: Any) -> str:
    return item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)


def instances_to_feeds(
    instances: list[Any], inputs: Sequence[TensorSpec], prefix: str = "instances"
) -> dict[str, np.ndarray]:
    """/predict instances (arrays for one-input models, objects keyed by input name otherwise) as feeds."""
    if len(inputs) == 1 and not isinstance(instances[0], dict):
        return {inputs[0].name: _stack_instances(instances, inputs[0], prefix)}
    columns: dict[str, list[Any]] = {spec.name: [] for spec in inputs}
    expected = sorted(columns)
    for position, instance in enumerate(instances):
        if not isinstance(instance, dict) or sorted(instance) != expected:
            raise BadRequest(f"{prefix}[{position}]: expected an object with exactly the inputs {expected}")
        for name, value in instance.items():
            columns[name].append(value)
    return {spec.name: _stack_instances(columns[spec.name], spec, f"{prefix}[*].{spec.name}") for spec in inputs}


def columns_of_inputs(data: Mapping[str, Any], inputs: Sequence[TensorSpec], prefix: str) -> dict[str, np.ndarray]:
    """/predict ``inputs`` as one array of rows per input name (TF Serving's columnar form) as feeds."""
    expected = sorted(spec.name for spec in inputs)
    if sorted(data) != expected:
        raise BadRequest(f"{prefix}: expected an object with exactly the inputs {expected}, each an array of rows")
    for spec in inputs:
        if not isinstance(data[spec.name], list) or not data[spec.name]:
            raise BadRequest(f"{prefix}.{spec.name}: expected an array of rows (at least one)")
    return {spec.name: _stack_instances(data[spec.name], spec, f"{prefix}.{spec.name}") for spec in inputs}


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
