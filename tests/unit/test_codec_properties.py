"""GIVEN any tensor of any datatype and shape WHEN it goes through the JSON codec (requests in, responses out)
THEN it comes back bit for bit, or (NaN, Infinity) is refused in the documented words; and GIVEN any JSON
value at all as tensor data or /predict instances THEN the codec answers an array or one of our typed 4xx
errors, never another exception (which the API would answer as a 500).

The strategies are tests.testkit.tensor_strategies', shared with test_binary_tensor_properties.py.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pydantic_core
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import tests.testkit.hypothesis_profiles  # noqa: F401  (loads the ci or fuzz profile)
from handler.binary_tensors import tensor_bytes
from handler.codec import decode_tensor, encode_tensor, instances_to_feeds, json_to_array
from handler.errors import BadRequest, RequestError, Unprocessable
from handler.request_bodies import InferenceRequest
from handler.signature import DATATYPE_TO_NUMPY, TensorSpec
from tests.testkit.tensor_strategies import (
    ANY_DATATYPE,
    ANY_SHAPE,
    DATA,
    DATATYPES,
    FLOATS,
    INTEGERS,
    NON_EMPTY_SHAPES,
    NON_FINITE,
    as_json_data,
    assert_identical,
    outcome,
    tensors,
)


def server_reads(document: dict[str, Any]) -> np.ndarray:
    """A JSON infer request's first input as the route decodes it: parsed by pydantic-core, then validated."""
    tensor = InferenceRequest.model_validate(pydantic_core.from_json(json.dumps(document))).inputs[0]
    return decode_tensor(tensor.name, tensor.shape, tensor.datatype, tensor.data, None)


def request_for(array: np.ndarray, datatype: str, data: list[Any]) -> dict[str, Any]:
    return {"inputs": [{"name": "x", "shape": list(array.shape), "datatype": datatype, "data": data}]}


@pytest.mark.parametrize("datatype", DATATYPES)
@given(data=st.data(), nested=st.booleans())
def test_a_json_request_tensor_decodes_to_exactly_what_the_client_sent(
    datatype: str, data: st.DataObject, nested: bool
) -> None:
    array = data.draw(tensors(datatype, finite=True), label="array")
    assert_identical(server_reads(request_for(array, datatype, as_json_data(array, nested))), array)


@pytest.mark.parametrize("datatype", DATATYPES)
@given(data=st.data())
def test_a_json_response_tensor_reads_back_as_exactly_the_models_output(datatype: str, data: st.DataObject) -> None:
    array = data.draw(tensors(datatype, finite=True), label="array")
    rendered = json.loads(pydantic_core.to_json(encode_tensor("y", array)))  # FastJsonResponse renders so
    assert rendered == {"name": "y", "datatype": datatype, "shape": list(array.shape), "data": rendered["data"]}
    assert rendered["data"] == array.ravel().tolist()
    assert_identical(decode_tensor("y", rendered["shape"], datatype, rendered["data"], None), array)


@st.composite
def with_non_finite(draw: st.DrawFn) -> tuple[str, np.ndarray, int]:
    """A float tensor with NaN or +-Infinity at one flat index (finite everywhere before it)."""
    datatype = draw(st.sampled_from(FLOATS))
    array = draw(tensors(datatype, finite=True, shapes=NON_EMPTY_SHAPES)).copy()
    index = draw(st.integers(0, array.size - 1))
    array.flat[index] = draw(st.sampled_from(NON_FINITE))
    return datatype, array, index


@given(case=with_non_finite(), nested=st.booleans())
def test_json_cannot_carry_nan_or_infinity_so_both_directions_refuse_it_in_the_documented_words(
    case: tuple[str, np.ndarray, int], nested: bool
) -> None:
    datatype, array, index = case
    with pytest.raises(BadRequest) as refused:
        server_reads(request_for(array, datatype, as_json_data(array, nested)))  # json.dumps writes NaN literals
    assert refused.value.message == (
        f"input 'x': value at flat index {index} is NaN or Infinity; JSON numbers must be finite"
    )
    with pytest.raises(Unprocessable, match=r"^output 'y' contains NaN or Infinity, which JSON cannot carry$"):
        encode_tensor("y", array)


@pytest.mark.parametrize("datatype", INTEGERS)
@given(values=st.lists(st.integers(-(2**65), 2**65), min_size=1, max_size=6))
@example(values=[2**63, -1])  # no numpy integer type holds both: numpy makes floats of them
@example(values=[])
def test_json_integers_decode_exactly_when_in_range_else_a_400_says_the_range(datatype: str, values: list[int]) -> None:
    info = np.iinfo(DATATYPE_TO_NUMPY[datatype])
    if all(info.min <= value <= info.max for value in values):
        assert json_to_array(values, datatype, "input 'x'").tolist() == values
        return
    with pytest.raises(BadRequest) as refused:
        json_to_array(values, datatype, "input 'x'")
    if all(-(2**63) <= value < 2**64 for value in values):  # beyond 64 bits numpy gives up: "ragged or mixes types"
        assert refused.value.message == f"input 'x': values must lie in [{info.min}, {info.max}] for {datatype}"


@pytest.mark.parametrize("datatype", FLOATS)
@given(values=st.lists(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**63), 2**63 - 1), max_size=6))
@example(values=[65504.0, 65519.99])  # both round to FP16's largest finite value
@example(values=[65520.0])  # rounds to FP16 Infinity
@example(values=[1e300, -0.0])
def test_json_numbers_narrow_to_the_datatype_or_a_400_says_they_are_out_of_range(
    datatype: str, values: list[float | int]
) -> None:
    """No RuntimeWarning and no silent Infinity (pytest turns warnings into errors)."""
    dtype = DATATYPE_TO_NUMPY[datatype]
    with np.errstate(over="ignore"):
        expected = np.array(values, dtype=np.float64).astype(dtype)
    if np.isfinite(expected).all():
        assert_identical(json_to_array(values, datatype, "input 'x'"), expected)
        return
    with pytest.raises(BadRequest, match=rf"^input 'x': value \S+ at flat index \d+ is out of range for {datatype}: "):
        json_to_array(values, datatype, "input 'x'")


SPECS = st.none() | st.builds(
    lambda name, shape: TensorSpec("x", name, shape, (None,) * len(shape), "tensor(?)"),
    ANY_DATATYPE,
    st.lists(st.integers(-1, 4), max_size=4).map(tuple),
)


def assert_answerable(name: str, array: np.ndarray) -> None:
    """What an identity model would answer with a decoded input: both JSON and bytes must carry it."""
    pydantic_core.to_json(encode_tensor(name, array))
    tensor_bytes(name, array)


@given(shape=ANY_SHAPE, datatype=ANY_DATATYPE, data=DATA, spec=SPECS)
@example(shape=[1] * 65, datatype="FP32", data=[1.0], spec=None)
@example(shape=[0, 2**62, 4], datatype="FP32", data=[], spec=None)
@example(shape=[1], datatype="BYTES", data=["\ud800"], spec=None)
@example(shape=[0, 2], datatype="INT32", data=[[], []], spec=None)
@example(shape=[1], datatype="FP16", data=[1e10], spec=None)
def test_any_json_data_decodes_to_its_declared_tensor_or_is_a_typed_4xx(
    shape: list[int], datatype: str, data: Any, spec: TensorSpec | None
) -> None:
    array = outcome(lambda: decode_tensor("x", shape, datatype, data, spec))
    if isinstance(array, RequestError):
        return
    assert (array.dtype, array.shape) == (DATATYPE_TO_NUMPY[datatype], tuple(shape))
    assert spec is None or spec.datatype == datatype
    assert_answerable("x", array)


INSTANCE_SPECS = st.lists(
    st.builds(
        lambda name, datatype, inner: TensorSpec(name, datatype, (-1, *inner), (None,) * (1 + len(inner)), "t"),
        st.sampled_from(["a", "b", "c"]),
        st.sampled_from([*DATATYPES, "BF16"]),
        st.lists(st.integers(-1, 3), max_size=3),
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda spec: spec.name,
)


@given(specs=INSTANCE_SPECS, data=st.data())
def test_any_predict_instances_become_feeds_of_the_models_inputs_or_a_typed_4xx(
    specs: list[TensorSpec], data: st.DataObject
) -> None:
    """PredictRequest guarantees at least one instance; nothing else is assumed."""
    keyed = st.fixed_dictionaries({spec.name: DATA for spec in specs}, optional={"z": DATA})
    instances = data.draw(st.lists(DATA | keyed, min_size=1, max_size=4), label="instances")
    feeds = outcome(lambda: instances_to_feeds(instances, specs))
    if isinstance(feeds, RequestError):
        return
    assert list(feeds) == [spec.name for spec in specs]
    for spec in specs:
        assert feeds[spec.name].dtype == DATATYPE_TO_NUMPY[spec.datatype]
        assert feeds[spec.name].shape[0] == len(instances)
        assert_answerable(spec.name, feeds[spec.name])
