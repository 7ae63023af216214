"""GIVEN JSON tensor data WHEN decoded or encoded THEN arrays come out exact, or a 4xx says what is wrong."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from handler.codec import decode_tensor, encode_tensor, instances_to_feeds, json_to_array
from handler.errors import BadRequest, Unprocessable
from handler.signature import DATATYPE_TO_NUMPY, TensorSpec
from tests.testkit.tensor_samples import SAMPLES


def spec(datatype: str = "FP32", shape: tuple[int, ...] = (-1, 2)) -> TensorSpec:
    return TensorSpec("x", datatype, shape, (None,) * len(shape), "tensor(float)")


@pytest.mark.parametrize("datatype", sorted(SAMPLES))
def test_every_datatype_round_trips_through_decode_and_encode(datatype: str) -> None:
    array = decode_tensor("x", [2, 2], datatype, SAMPLES[datatype], None)
    assert array.dtype == DATATYPE_TO_NUMPY[datatype]
    assert array.shape == (2, 2)
    encoded = encode_tensor("x", array)
    assert encoded == {"name": "x", "datatype": datatype, "shape": [2, 2], "data": SAMPLES[datatype]}


def test_nested_and_flat_data_decode_to_the_same_array() -> None:
    flat = decode_tensor("x", [2, 3], "FP32", [1, 2, 3, 4, 5, 6], None)
    nested = decode_tensor("x", [2, 3], "FP32", [[1, 2, 3], [4, 5, 6]], None)
    np.testing.assert_array_equal(flat, nested)


@pytest.mark.parametrize(
    ("datatype", "data", "message"),
    [
        ("FP32", ["1", "2"], "expected numbers for datatype FP32, got strings"),
        ("INT64", [1.5, 2.0], "expected integers for datatype INT64, got numbers"),
        ("BOOL", [1, 0], "expected booleans for datatype BOOL, got integers"),
        ("FP32", [float("nan"), 1.0], "flat index 0 is NaN or Infinity"),
        ("FP64", [1.0, float("inf")], "flat index 1 is NaN or Infinity"),
        ("UINT8", [256, 0], "values must lie in [0, 255]"),
        ("INT8", [-129, 0], "values must lie in [-128, 127]"),
        ("FP32", [[1, 2], [3]], "ragged or mixes types"),
        ("FP32", [1, "a"], "expected numbers for datatype FP32, got strings"),
        ("BYTES", ["a", 1], "ragged or mixes types"),
        ("INT64", [2**64, 1], "values must lie in [-9223372036854775808, 9223372036854775807] for INT64"),
        ("FP32", [10**400], "an integer is out of range for FP32: expected values within ±3.40282e"),
        ("FP8", [1, 2], "datatype 'FP8' cannot be sent as JSON input"),
    ],
)
def test_bad_data_is_refused_with_a_message_naming_the_problem(datatype: str, data: list[Any], message: str) -> None:
    with pytest.raises(BadRequest, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        json_to_array(data, datatype, "input 'x'")


def test_integers_written_out_past_64_bits_are_numbers_a_float_tensor_takes() -> None:
    array = json_to_array([[10**30, 1], [2, -(10**20)]], "FP32", "input 'x'")
    assert array.dtype == np.float32
    np.testing.assert_array_equal(array, np.array([[1e30, 1], [2, -1e20]], dtype=np.float32))


def test_shape_and_data_length_must_agree() -> None:
    with pytest.raises(BadRequest, match=r"shape \[2, 3\] needs 6 values but 'data' holds 5"):
        decode_tensor("x", [2, 3], "FP32", [1, 2, 3, 4, 5], None)


def test_a_huge_declared_shape_is_refused_without_allocating() -> None:
    with pytest.raises(BadRequest, match="needs 18446744073709551616 values"):
        decode_tensor("x", [2**32, 2**32], "FP32", [1.0], None)


def test_negative_dimensions_are_refused() -> None:
    with pytest.raises(BadRequest, match="negative dimension"):
        decode_tensor("x", [-1, 2], "FP32", [1, 2], None)


def test_a_datatype_other_than_the_models_is_refused_with_the_expected_signature() -> None:
    with pytest.raises(BadRequest, match=r"datatype 'FP64': expected 'x' with shape \[\?, 2\] and datatype FP32"):
        decode_tensor("x", [1, 2], "FP64", [1.0, 2.0], spec())


def test_non_finite_outputs_are_unprocessable_not_a_crash() -> None:
    with pytest.raises(Unprocessable, match="NaN or Infinity"):
        encode_tensor("y", np.array([np.nan], dtype=np.float32))


def test_flat_instances_are_reshaped_to_the_models_per_instance_shape() -> None:
    image = spec("FP32", (-1, 1, 2, 2))
    feeds = instances_to_feeds([[1, 2, 3, 4], [5, 6, 7, 8]], [image])
    assert feeds["x"].shape == (2, 1, 2, 2)
    assert feeds["x"][1, 0, 1, 0] == 7


def test_instances_of_the_wrong_rank_are_refused() -> None:
    with pytest.raises(BadRequest, match=r"each instance has shape \[2, 2\]"):
        instances_to_feeds([[[1, 2], [3, 4]]], [spec()])


def test_multi_input_instances_are_objects_keyed_by_input_name() -> None:
    a, b = spec(), TensorSpec("y", "FP32", (-1, 2), (None, None), "tensor(float)")
    feeds = instances_to_feeds([{"x": [1, 2], "y": [3, 4]}, {"x": [5, 6], "y": [7, 8]}], [a, b])
    np.testing.assert_array_equal(feeds["y"], np.array([[3, 4], [7, 8]], dtype=np.float32))
    with pytest.raises(BadRequest, match=r"instances\[1\]: expected an object with exactly the inputs \['x', 'y'\]"):
        instances_to_feeds([{"x": [1, 2], "y": [3, 4]}, {"x": [5, 6]}], [a, b])
