"""Hypothesis strategies and checks for tensors of every protocol datatype, shared by the JSON and binary codec
properties (tests/unit/test_codec_properties.py, test_binary_tensor_properties.py)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, from_dtype

from handler.answers import status_of
from handler.errors import RequestError
from handler.signature import DATATYPE_TO_NUMPY

DATATYPES = list(DATATYPE_TO_NUMPY)  # every datatype the codecs carry, BYTES included
FLOATS = [name for name, dtype in DATATYPE_TO_NUMPY.items() if dtype.kind == "f"]
INTEGERS = [name for name, dtype in DATATYPE_TO_NUMPY.items() if dtype.kind in "iu"]
# Up to 4 dimensions of 0 to 4: scalars, zero-size tensors and at most 256 elements.
SHAPES = array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)
NON_EMPTY_SHAPES = array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4)
NON_FINITE = [math.nan, math.inf, -math.inf]
T = TypeVar("T")


def outcome(call: Callable[[], T]) -> T | RequestError:
    """The result or our typed error; any other exception propagates and fails the test (the API's 500)."""
    try:
        return call()
    except RequestError as exc:
        error = exc
    assert 400 <= status_of(error) < 500, status_of(error)
    assert error.message, "an error must say what is wrong"
    return error


@st.composite
def tensors(draw: st.DrawFn, datatype: str, *, finite: bool, shapes: st.SearchStrategy[Any] = SHAPES) -> np.ndarray:
    """An array of ``datatype``; when not ``finite``, floats are any bit pattern (NaN payloads, -0.0, subnormals)."""
    dtype = DATATYPE_TO_NUMPY[datatype]
    shape = draw(shapes)
    if datatype == "BYTES":
        return draw(arrays(dtype, shape, elements=st.text(max_size=6)))
    if dtype.kind == "f" and not finite:
        bits: np.ndarray = draw(arrays(np.dtype(f"<u{dtype.itemsize}"), shape))
        return bits.view(dtype)
    if dtype.kind == "f":
        return draw(arrays(dtype, shape, elements=from_dtype(dtype, allow_nan=False, allow_infinity=False)))
    return draw(arrays(dtype, shape))


def assert_identical(got: np.ndarray, expected: np.ndarray) -> None:
    """Same datatype, shape and bits (so -0.0 is not 0.0 and each NaN payload counts); strings by value."""
    assert (got.dtype, got.shape) == (expected.dtype, expected.shape)
    if expected.dtype == np.object_:
        assert got.tolist() == expected.tolist()
    else:
        assert np.ascontiguousarray(got).tobytes() == np.ascontiguousarray(expected).tobytes()


def as_json_data(array: np.ndarray, nested: bool) -> list[Any]:
    """The 'data' a client sends: nested like the shape, or flat in row-major order."""
    values: list[Any] = array.tolist() if nested and array.ndim else array.ravel().tolist()
    return values


# Any JSON value: what pydantic-core or json.loads can hand the codec, lone surrogates and huge ints included.
TEXT = st.text(st.characters() | st.characters(categories=["Cs"]), max_size=4)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.sampled_from([0, 1, -1, 2**63, 2**64, 65520.0, 1e300, -0.0])
    | TEXT
)
JSON_VALUES = st.recursive(
    LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=24
)
NESTED_LISTS = st.recursive(LEAVES, lambda inner: st.lists(inner, min_size=1, max_size=3), max_leaves=30)
DATA = st.one_of(
    JSON_VALUES,
    st.lists(NESTED_LISTS, max_size=4),
    st.sampled_from(DATATYPES).flatmap(lambda name: tensors(name, finite=True)).map(lambda a: a.tolist()),
)
ANY_DATATYPE = st.sampled_from([*DATATYPES, "BF16", "FP8", "fp32", "", "BYTES "]) | st.text(max_size=5)
DIMS = st.integers(-3, 5) | st.sampled_from([0, 2**31, 2**62, 2**63, 2**64, 2**70])
ANY_SHAPE = st.lists(DIMS, max_size=6) | st.lists(st.sampled_from([0, 1]), min_size=60, max_size=70)
