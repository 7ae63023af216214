"""The server side of a binary request, step by step, for the unit tests of handler.binary_tensors: what
the infer route does with a body up to the arrays it feeds the model, and sample tensors of every datatype.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from handler.answers import status_of
from handler.binary_tensors import decode_inputs, parse_header, split_body
from handler.errors import BadRequest
from handler.request_bodies import BinaryInferenceRequest
from handler.signature import DATATYPE_TO_NUMPY, TensorSpec
from tests.testkit.tensor_samples import SAMPLES

SHAPES = [(4,), (2, 2), (2, 1, 3), (), (0, 3), (0,)]
HEADER_ERROR = "expected the length in bytes of the JSON inference request at the start of the body"


def sample(datatype: str, shape: tuple[int, ...]) -> np.ndarray:
    """SAMPLES[datatype] repeated to fill ``shape``."""
    values = np.array(SAMPLES[datatype], dtype=DATATYPE_TO_NUMPY[datatype])
    return np.resize(values, shape) if math.prod(shape) else np.empty(shape, dtype=values.dtype)


def tensor(name: str, array: np.ndarray, datatype: str) -> dict[str, Any]:
    return {"name": name, "shape": list(array.shape), "datatype": datatype}


def decode(body: bytes, length: int | str, specs: dict[str, TensorSpec] | None = None) -> dict[str, np.ndarray]:
    """What the infer route does with a binary body, up to the arrays it feeds the model."""
    header, binary = split_body(body, str(length))
    request = BinaryInferenceRequest.model_validate(parse_header(header))
    return decode_inputs(request.inputs, binary, specs or {})


def refused(body: bytes, length: int | str, specs: dict[str, TensorSpec] | None = None) -> tuple[int, str]:
    with pytest.raises(BadRequest) as info:
        decode(body, length, specs)
    return status_of(info.value), info.value.message
