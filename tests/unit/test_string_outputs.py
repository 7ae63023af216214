"""GIVEN string outputs as ONNX graphs give them (object arrays: class labels that repeat, any text, bytes, or
a mix with other Python values) WHEN answered through the binary extension or as JSON THEN the bytes are
exactly what a client's own codec lays out and the JSON lists are each element's text, whichever of the
encoders' fast (all strings) or general paths the array takes."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from handler.binary_tensors import tensor_bytes
from handler.codec import to_json_list
from tests.testkit.binary import client_bytes

LABELS = st.sampled_from(["0", "1", "cat", "", "é", "日本", "a\x00b"])
TEXTS = LABELS | st.text(max_size=8)
ELEMENTS = TEXTS | st.binary(max_size=6) | st.integers(-3, 3) | st.booleans() | st.floats(allow_nan=False, width=32)


def objects(items: list[Any], columns: int) -> np.ndarray:
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array.reshape(-1, columns) if items and len(items) % columns == 0 else array


def text_of(item: Any) -> str:
    """An element's JSON text as the protocol has it: bytes read as UTF-8 (bad bytes replaced), else str()."""
    return item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)


@given(items=st.lists(LABELS, max_size=300), columns=st.sampled_from([1, 2, 3]))
def test_repeating_labels_encode_to_exactly_a_clients_bytes_and_their_own_json_text(
    items: list[str], columns: int
) -> None:
    array = objects(items, columns)
    assert tensor_bytes("label", array) == ("BYTES", client_bytes(array))
    assert to_json_list(array) == array.tolist()


@given(items=st.lists(ELEMENTS, max_size=40), columns=st.sampled_from([1, 2]))
def test_mixed_elements_encode_each_by_its_own_type_even_where_values_compare_equal(
    items: list[Any], columns: int
) -> None:
    array = objects(items, columns)
    assert tensor_bytes("y", array) == ("BYTES", client_bytes(array))
    flat = to_json_list(array.ravel())
    assert flat == [text_of(item) for item in items]
    assert all(type(text) is str for text in flat)


def test_one_true_and_one_int_one_float_stay_apart() -> None:
    """1 == 1.0 == True hash alike; each must still be packed as its own text."""
    array = objects(["1", 1, 1.0, True, b"1"], 5).ravel()
    _, data = tensor_bytes("y", array)
    assert data == client_bytes(array)
    assert to_json_list(array) == ["1", "1", "1.0", "True", "1"]
