"""Binary tensor data extension bodies as a client builds and reads them (the layout tritonclient uses).

Written apart from handler.binary_tensors on purpose, from the extension's text: little-endian, row-major,
BOOL one byte, BYTES a 4-byte little-endian length then the bytes; so the tests do not check the server's
code against itself.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

from handler.signature import DATATYPE_TO_NUMPY

HEADER = "inference-header-content-length"


def client_bytes(array: np.ndarray) -> bytes:
    """One tensor's bytes as a client sends them."""
    if array.dtype == np.object_:
        items = [item if isinstance(item, bytes) else str(item).encode("utf-8") for item in array.ravel()]
        return b"".join(struct.pack("<I", len(item)) + item for item in items)
    return np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()


def binary_request(request: dict[str, Any], arrays: dict[str, np.ndarray]) -> tuple[bytes, int]:
    """The body and header length of ``request`` with the inputs named in ``arrays`` sent as bytes."""
    inputs, parts = [], []
    for given in request["inputs"]:
        tensor = dict(given)
        if tensor["name"] in arrays:
            tensor.pop("data", None)
            data = client_bytes(arrays[tensor["name"]])
            tensor["parameters"] = {**(tensor.get("parameters") or {}), "binary_data_size": len(data)}
            parts.append(data)
        inputs.append(tensor)
    header = json.dumps({**request, "inputs": inputs}).encode()
    return header + b"".join(parts), len(header)


def from_bytes(data: bytes, datatype: str, shape: list[int]) -> np.ndarray:
    """One tensor read back from its bytes, as a client does."""
    if datatype != "BYTES":
        dtype = DATATYPE_TO_NUMPY[datatype]
        return np.frombuffer(data, dtype=dtype.newbyteorder("<")).astype(dtype).reshape(shape)
    items: list[str] = []
    offset = 0
    while offset < len(data):
        (length,) = struct.unpack_from("<I", data, offset)
        items.append(data[offset + 4 : offset + 4 + length].decode("utf-8"))
        offset += 4 + length
    return np.array(items, dtype=object).reshape(shape)


def read_binary(body: bytes, header_length: int | None, key: str = "outputs") -> dict[str, Any]:
    """A body as a client reads it: the JSON part, each tensor under ``key`` that states binary_data_size
    given ``data`` (flat, as JSON has it) read from the bytes that follow, in order."""
    if header_length is None:
        document: dict[str, Any] = json.loads(body)
        return document
    document = json.loads(body[:header_length])
    offset = header_length
    for tensor in document[key]:
        size = (tensor.get("parameters") or {}).get("binary_data_size")
        if size is not None:
            array = from_bytes(body[offset : offset + size], tensor["datatype"], tensor["shape"])
            tensor["data"] = array.ravel().tolist()
            offset += size
    assert offset == len(body), f"{len(body) - offset} bytes after the last binary tensor"
    return document
