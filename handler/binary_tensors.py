"""The binary tensor data extension of the Open Inference Protocol, as Triton and KServe define it.

Why: for large tensors JSON costs more than the model, and it cannot carry FP16 exactly or NaN at all.
A request with an ``Inference-Header-Content-Length`` header is a JSON inference request of that many
bytes followed by the bytes of every input whose ``parameters.binary_data_size`` says so, in the order of
``inputs``: little-endian, row-major, BOOL one byte (0 or 1), BYTES a 4-byte little-endian length then the
bytes. Outputs asked for with ``binary_data`` (or the request's ``binary_data_output``) go back the same
way. Names, shapes and datatypes are checked by handler.codec, so both forms give the same words, and
every size a client states is checked against the body before anything is allocated.
"""

from __future__ import annotations

import json
import math
import re
import struct
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pydantic_core

from handler.codec import (
    check_declared,
    decode_tensor,
    encode_tensor,
    ensure_new_input,
    numpy_dtype,
    only_strings,
    output_datatype,
    shaped,
)
from handler.errors import BadRequest
from handler.signature import TensorSpec

HEADER = "inference-header-content-length"  # as ASGI delivers header names: lower case
HEADER_NAME = "Inference-Header-Content-Length"
OCTET_STREAM = "application/octet-stream"
EXTENSION = "binary_tensor_data"  # the name servers list in GET /v2 "extensions"

_EXPECTED_LENGTH = "expected the length in bytes of the JSON inference request at the start of the body"
_LENGTH = struct.Struct("<I")  # a BYTES element's length prefix
_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


class InputTensor(Protocol):
    """One input as the JSON header declares it (handler.api.schemas.BinaryRequestInput)."""

    name: str
    shape: list[int]
    datatype: str
    parameters: dict[str, Any] | None
    data: list[Any] | None


class OutputRequest(Protocol):
    """One output the request names, with its parameters (handler.api.schemas.RequestOutput)."""

    name: str
    parameters: dict[str, Any] | None


def split_body(body: bytes, declared: str) -> tuple[bytes, memoryview]:
    """The JSON header and the binary part, cut where the header says; a length that lies is a BadRequest."""
    length = _header_length(declared.strip(), len(body))
    return body[:length], memoryview(body)[length:]


def _header_length(value: str, body_size: int) -> int:
    where = f"the {HEADER_NAME} header"
    if not value:
        raise BadRequest(f"{where} is empty: {_EXPECTED_LENGTH}")
    match = re.fullmatch(r"(-?)([0-9]+)", value)
    if match is None:
        raise BadRequest(f"{where} is {value[:40]!r}, not an integer: {_EXPECTED_LENGTH}")
    if match[1]:
        raise BadRequest(f"{where} is negative ({value[:40]}): {_EXPECTED_LENGTH}")
    digits = match[2].lstrip("0") or "0"
    if len(digits) > len(str(body_size)) or int(digits) > body_size:  # no int() of a 5,000-digit string
        raise BadRequest(f"{where} says {digits[:40]} bytes but the whole body is {body_size}: {_EXPECTED_LENGTH}")
    return int(digits)


def parse_header(header: bytes) -> dict[str, Any]:
    """The JSON inference request at the start of the body, as a dict; raises BadRequest saying why not."""
    where = f"the JSON inference header (the first {len(header)} bytes of the body, per {HEADER_NAME})"
    check = f"{HEADER_NAME} must be the length in bytes of the JSON request exactly"
    if not header:
        raise BadRequest(f"{where} is empty: the body must start with the JSON inference request")
    try:
        value = json.loads(header.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest(f"{where} is not UTF-8 text; does it reach into the tensor bytes? {check}") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON in {where}: {exc.msg} at position {exc.pos}; {check}") from None
    except ValueError:  # what else json.loads raises: int() of a number past Python's digit limit
        limit = sys.get_int_max_str_digits()
        raise BadRequest(
            f"malformed JSON in {where}: a number has more than {limit} digits; expected at most {limit}"
        ) from None
    except RecursionError:
        raise BadRequest(f"malformed JSON in {where}: nested too deeply") from None
    if not isinstance(value, dict):
        found = "null" if value is None else _JSON_TYPES.get(type(value), type(value).__name__)
        raise BadRequest(f"{where} must be a JSON object (an inference request); got {found}")
    return value


def decode_inputs(
    inputs: Sequence[InputTensor],
    binary: bytes | memoryview,
    specs: Mapping[str, TensorSpec],
    files: frozenset[str] = frozenset(),
) -> dict[str, np.ndarray]:
    """Every input as an array: from the binary part, in order, when it states binary_data_size, else from
    its JSON 'data'. The binary part must hold exactly the bytes the inputs state, no more and no less. The BYTES
    elements of the inputs named in ``files`` (an image model's encoded images) stay bytes; others are text."""
    feeds: dict[str, np.ndarray] = {}
    offset = 0
    for tensor in inputs:
        ensure_new_input(tensor.name, feeds)
        spec = specs.get(tensor.name)
        size = binary_data_size(tensor)
        if size is None:
            feeds[tensor.name] = decode_tensor(tensor.name, tensor.shape, tensor.datatype, _json_data(tensor), spec)
            continue
        if tensor.data is not None:
            raise BadRequest(
                f"input {tensor.name!r} has both 'data' and parameters.binary_data_size: send its values one way"
            )
        chunk = binary[offset : offset + size]
        feeds[tensor.name] = decode_binary_tensor(tensor, size, chunk, spec, as_bytes=tensor.name in files)
        offset += size
    if offset != len(binary):
        raise BadRequest(
            f"the body goes on for {len(binary) - offset} bytes after the {offset} bytes the inputs' "
            f"parameters.binary_data_size add up to: expected it to end there (check {HEADER_NAME} and each size)"
        )
    return feeds


def binary_data_size(tensor: InputTensor) -> int | None:
    """The input's parameters.binary_data_size, or None when its data is JSON; raises BadRequest if not a size."""
    size = (tensor.parameters or {}).get("binary_data_size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise BadRequest(
            f"input {tensor.name!r}: parameters.binary_data_size must be a whole number of bytes, 0 or more; "
            f"got {json.dumps(size)[:40]}"
        )
    return size


def _json_data(tensor: InputTensor) -> list[Any]:
    if tensor.data is None:
        raise BadRequest(
            f"input {tensor.name!r} has neither 'data' nor parameters.binary_data_size: give its values in "
            "'data', or its bytes after the JSON header with their count in parameters.binary_data_size"
        )
    return tensor.data


def decode_binary_tensor(
    tensor: InputTensor, size: int, chunk: bytes | memoryview, spec: TensorSpec | None, *, as_bytes: bool = False
) -> np.ndarray:
    """One input from its raw bytes (``chunk``, which should be ``size`` long) as an array of its shape; BYTES
    elements as text (what onnxruntime's string tensors take), or ``as_bytes`` (encoded files)."""
    shape, datatype = tuple(tensor.shape), tensor.datatype
    where = check_declared(tensor.name, shape, datatype, spec)
    dtype = numpy_dtype(datatype, where, "binary")
    count = _checked_count(where, shape, datatype, size, dtype.itemsize)
    if len(chunk) < size:
        raise BadRequest(
            f"{where}: parameters.binary_data_size is {size} but only {len(chunk)} bytes of the body are left "
            f"for it; expected its bytes right after those of the inputs before it (check {HEADER_NAME})"
        )
    if datatype == "BYTES":
        array = _bytes_elements(where, memoryview(chunk), count, as_bytes)
    elif datatype == "BOOL":
        array = _bools(where, chunk)
    else:
        # A read-only view of the request's bytes (onnxruntime only reads its inputs): no copy on little-endian
        # hosts, which Lambda's arm64 and x86_64 both are; elsewhere astype swaps the bytes.
        array = np.frombuffer(chunk, dtype=dtype.newbyteorder("<")).astype(dtype, copy=False)
    return shaped(array, shape, where)


def _checked_count(where: str, shape: Sequence[int], datatype: str, size: int, itemsize: int) -> int:
    """The element count, once the stated size can hold it: exactly for fixed-size types, at least for BYTES.
    Python ints, so a shape of 2**40 x 2**40 is compared, never overflowed or allocated."""
    count = math.prod(shape)
    stated = f"{where}: parameters.binary_data_size is {size} but shape {list(shape)} of {datatype}"
    if datatype == "BYTES":
        if count * _LENGTH.size > size:
            raise BadRequest(
                f"{stated} needs at least {count * _LENGTH.size} bytes (a {_LENGTH.size}-byte length for each "
                f"of its {count} elements)"
            )
    elif count * itemsize != size:
        raise BadRequest(f"{stated} needs {count * itemsize} bytes ({count} elements of {itemsize} bytes)")
    return count


def _bools(where: str, chunk: bytes | memoryview) -> np.ndarray:
    raw = np.frombuffer(chunk, dtype=np.uint8)
    if raw.size and raw.max() > 1:
        index = int(np.flatnonzero(raw > 1)[0])
        raise BadRequest(f"{where}: BOOL element at flat index {index} is the byte {raw[index]}; expected 0 or 1")
    return raw.astype(np.bool_)


def _bytes_elements(where: str, chunk: memoryview, count: int, as_bytes: bool = False) -> np.ndarray:
    """BYTES elements, each a 4-byte little-endian length then that many bytes of UTF-8 (what onnxruntime's
    string tensors take), or of a file (``as_bytes``); they must fill the chunk exactly."""
    items: list[str | bytes] = []
    offset, end = 0, len(chunk)
    for index in range(count):
        element = f"{where}: BYTES element at flat index {index}"
        if offset + _LENGTH.size > end:
            raise BadRequest(f"{element} has no 4-byte length: its binary_data_size ends after {offset} bytes")
        (length,) = _LENGTH.unpack_from(chunk, offset)
        offset += _LENGTH.size
        if length > end - offset:
            raise BadRequest(f"{element} says {length} bytes but only {end - offset} of its binary_data_size are left")
        try:
            piece = chunk[offset : offset + length]
            items.append(bytes(piece) if as_bytes else str(piece, "utf-8"))
        except UnicodeDecodeError:
            raise BadRequest(f"{element} is not UTF-8, which onnxruntime's string tensors need") from None
        offset += length
    if offset != end:
        raise BadRequest(
            f"{where}: {end - offset} bytes are left after its {count} BYTES elements: expected binary_data_size "
            "to be the sum of their lengths plus 4 bytes each"
        )
    return np.array(items, dtype=object)


def binary_outputs(
    parameters: Mapping[str, Any] | None, outputs: Sequence[OutputRequest] | None, names: Iterable[str]
) -> set[str]:
    """Which of ``names`` go back as bytes: an output's own binary_data, else the request's binary_data_output."""
    default = _flag(parameters, "binary_data_output", "the request") or False
    chosen = dict.fromkeys(names, default)
    for output in outputs or ():
        flag = _flag(output.parameters, "binary_data", f"output {output.name!r}")
        if flag is not None:
            chosen[output.name] = flag
    return {name for name, binary in chosen.items() if binary}


def _flag(parameters: Mapping[str, Any] | None, key: str, where: str) -> bool | None:
    value = (parameters or {}).get(key)
    if value is None or isinstance(value, bool):
        return value
    raise BadRequest(f"{where}: parameters.{key} must be true or false; got {json.dumps(value)[:40]}")


def tensor_bytes(name: str, array: np.ndarray) -> tuple[str, bytes]:
    """An output's datatype and raw bytes as the extension lays them out (little-endian, row-major)."""
    datatype = output_datatype(name, array)
    if datatype != "BYTES":
        return datatype, array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
    items = array.ravel().tolist()
    if only_strings(items):
        # Each distinct string packed once: class labels repeat (256 labels of 10 classes: 40 -> 23 us).
        packed = {text: _element(text.encode("utf-8")) for text in set(items)}
        return datatype, b"".join(map(packed.__getitem__, items))
    parts = [_element(item if isinstance(item, bytes) else str(item).encode("utf-8")) for item in items]
    return datatype, b"".join(parts)


def _element(data: bytes) -> bytes:
    """One BYTES element as the extension lays it out: its length, then its bytes."""
    return _LENGTH.pack(len(data)) + data


def encode_response(head: dict[str, Any], results: Mapping[str, np.ndarray], binary: set[str]) -> tuple[bytes, int]:
    """The response body (JSON header, then the bytes of the ``binary`` outputs in order) and the header's
    length. Binary outputs state binary_data_size instead of 'data' and may carry NaN; the others are JSON."""
    outputs: list[dict[str, Any]] = []
    parts: list[bytes] = []
    for name, array in results.items():
        if name not in binary:
            outputs.append(encode_tensor(name, array))
            continue
        datatype, data = tensor_bytes(name, array)
        parameters = {"binary_data_size": len(data)}
        outputs.append({"name": name, "datatype": datatype, "shape": list(array.shape), "parameters": parameters})
        parts.append(data)
    # Rendered as the JSON answers are (handler.api.fast_json): JSON outputs were checked finite by encode_tensor.
    header = pydantic_core.to_json({**head, "outputs": outputs})
    return header + b"".join(parts), len(header)
