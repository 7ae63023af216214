"""Triton's raw binary request: ``Inference-Header-Content-Length: 0``, the body is its one input's raw bytes.

For a model with one input, the request needs no JSON: the body is that input's data and its shape is deduced
from the body's size (little-endian, row major, as the binary extension lays tensors out; every dimension after
the batch one must be fixed to deduce the batch). A BYTES input takes the whole body as one element: one text
for a string model, one encoded image for an image model (decoded as any image request is). The answer is JSON.
"""

from __future__ import annotations

import math

import numpy as np

from handler.errors import BadRequest
from handler.model import OnnxModel
from handler.request_bodies import BinaryInferenceRequest
from handler.signature import DATATYPE_TO_NUMPY


def _one_element(body: bytes, rank: int, as_text: bool) -> np.ndarray:
    if not as_text:
        return np.array([body], dtype=object).reshape((1,) * max(rank, 1))
    try:
        return np.array([body.decode("utf-8")], dtype=object).reshape((1,) * max(rank, 1))
    except UnicodeDecodeError:
        raise BadRequest("the raw body is not UTF-8 text, which this model's BYTES input takes") from None


def raw_request(model: OnnxModel, body: bytes) -> tuple[BinaryInferenceRequest, dict[str, np.ndarray]]:
    """The request and feeds of a raw binary body; raises BadRequest saying why the body cannot be one."""
    inputs = model.info.inputs
    if len(inputs) != 1:
        names = ", ".join(repr(spec.name) for spec in inputs)
        raise BadRequest(
            f"a raw binary request (Inference-Header-Content-Length: 0) is for a model with one input; this one takes "
            f"{names}: send the JSON inference header first"
        )
    spec = inputs[0]
    if not body:
        raise BadRequest("the raw binary request's body is empty: expected the input's data")
    if model.info.image is not None or spec.datatype == "BYTES":
        array = _one_element(body, 1 if model.info.image is not None else len(spec.shape), model.info.image is None)
        datatype = "BYTES"
    else:
        per_instance = spec.shape[1:]
        if any(size < 0 for size in per_instance):
            raise BadRequest(
                f"input {spec.describe()} has dynamic dimensions after the batch one, so a raw body's shape cannot be "
                "deduced from its size: send the JSON inference header with the shape"
            )
        dtype = DATATYPE_TO_NUMPY[spec.datatype]
        instance_bytes = dtype.itemsize * math.prod(per_instance)
        if len(body) % instance_bytes:
            raise BadRequest(
                f"the raw body's {len(body)} bytes are not a whole number of instances of {spec.describe()} "
                f"({instance_bytes} bytes each, little-endian)"
            )
        array = np.frombuffer(body, dtype=dtype.newbyteorder("<")).astype(dtype).reshape(-1, *per_instance)
        datatype = spec.datatype
    tensor = {"name": spec.name, "shape": list(array.shape), "datatype": datatype}
    return BinaryInferenceRequest.model_validate({"inputs": [tensor]}), {spec.name: array}
