"""GIVEN any tensors of any datatype and shape, any bit pattern (NaN payloads, -0.0, subnormals) WHEN they go
through the binary tensor data extension (a client's request in, the server's response out, binary and JSON
inputs mixed) THEN they come back bit for bit; and GIVEN any body, header length, JSON header or
binary_data_size THEN the server answers feeds of the declared shapes or one of our typed 4xx errors, never
another exception (which the API would answer as a 500).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pydantic import ValidationError

import tests.testkit.hypothesis_profiles  # noqa: F401  (loads the ci or fuzz profile)
from handler.binary_tensors import binary_outputs, decode_inputs, encode_response, parse_header, split_body
from handler.codec import decode_tensor
from handler.errors import BadRequest, RequestError, Unprocessable
from handler.request_bodies import BinaryInferenceRequest, RequestOutput
from handler.signature import DATATYPE_TO_NUMPY, TensorSpec
from tests.testkit.binary import binary_request, client_bytes, from_bytes
from tests.testkit.tensor_strategies import (
    ANY_DATATYPE,
    ANY_SHAPE,
    DATA,
    DATATYPES,
    JSON_VALUES,
    SHAPES,
    TEXT,
    as_json_data,
    assert_identical,
    outcome,
    tensors,
)


def server_decodes(body: bytes, declared: str, specs: dict[str, TensorSpec] | None = None) -> dict[str, np.ndarray]:
    """What the binary infer route does with a body, up to the arrays it feeds the model."""
    header, binary = split_body(body, declared)
    request = BinaryInferenceRequest.model_validate(parse_header(header))
    return decode_inputs(request.inputs, binary, specs or {})


def client_reads(body: bytes, length: int) -> dict[str, np.ndarray]:
    """A response as a client reads it (testkit.binary, written apart from the server): bytes or JSON 'data'."""
    document = json.loads(body[:length])
    arrays_read, offset = {}, length
    for output in document["outputs"]:
        name, datatype, shape = output["name"], output["datatype"], output["shape"]
        size = (output.get("parameters") or {}).get("binary_data_size")
        if size is None:
            arrays_read[name] = decode_tensor(name, shape, datatype, output["data"], None)
            continue
        arrays_read[name] = from_bytes(body[offset : offset + size], datatype, shape)
        offset += size
    assert offset == len(body), f"{len(body) - offset} bytes after the last binary output"
    return arrays_read


def server_reads_back(body: bytes, length: int) -> dict[str, np.ndarray]:
    """A response fed to the server's own request decoder (its outputs have exactly an input's fields)."""
    head = json.loads(body[:length])
    request = json.dumps({"inputs": head["outputs"]}).encode()
    return server_decodes(request + body[length:], str(len(request)))


@pytest.mark.parametrize("datatype", DATATYPES)
@given(data=st.data())
def test_a_clients_binary_input_decodes_bit_for_bit(datatype: str, data: st.DataObject) -> None:
    array = data.draw(tensors(datatype, finite=False), label="array")
    request = {"inputs": [{"name": "x", "shape": list(array.shape), "datatype": datatype}]}
    body, length = binary_request(request, {"x": array})
    assert_identical(server_decodes(body, str(length))["x"], array)


@pytest.mark.parametrize("datatype", DATATYPES)
@given(data=st.data())
def test_a_binary_output_reads_back_bit_for_bit_by_a_client_and_by_the_server(
    datatype: str, data: st.DataObject
) -> None:
    array = data.draw(tensors(datatype, finite=False), label="array")
    body, length = encode_response({"model_name": "m"}, {"y": array}, {"y"})
    assert body[length:] == client_bytes(array)
    assert json.loads(body[:length])["outputs"] == [
        {
            "name": "y",
            "datatype": datatype,
            "shape": list(array.shape),
            "parameters": {"binary_data_size": len(body) - length},
        }
    ]
    assert_identical(client_reads(body, length)["y"], array)
    assert_identical(server_reads_back(body, length)["y"], array)


@st.composite
def mixed_tensors(draw: st.DrawFn) -> list[tuple[str, str, np.ndarray, bool]]:
    """1 to 4 inputs (name, datatype, array, as bytes?) of any datatypes; those sent as JSON are finite."""
    datatypes = draw(st.lists(st.sampled_from(DATATYPES), min_size=1, max_size=4))
    chosen = []
    for index, datatype in enumerate(datatypes):
        as_bytes = draw(st.booleans())
        chosen.append((f"t{index}", datatype, draw(tensors(datatype, finite=not as_bytes)), as_bytes))
    return chosen


@given(chosen=mixed_tensors(), nested=st.booleans(), binary_back=st.sets(st.integers(0, 3)))
def test_binary_and_json_tensors_mixed_in_one_request_and_response_come_back_bit_for_bit(
    chosen: list[tuple[str, str, np.ndarray, bool]], nested: bool, binary_back: set[int]
) -> None:
    inputs = [
        {"name": name, "shape": list(array.shape), "datatype": datatype}
        | ({} if as_bytes else {"data": as_json_data(array, nested)})
        for name, datatype, array, as_bytes in chosen
    ]
    sent = {name: array for name, _, array, as_bytes in chosen if as_bytes}
    body, length = binary_request({"id": "7", "inputs": inputs}, sent)
    feeds = server_decodes(body, str(length))
    assert list(feeds) == [name for name, *_ in chosen]
    for name, _, array, _ in chosen:
        assert_identical(feeds[name], array)
    # Outputs go back as bytes when asked, else as JSON (which only finite values can take).
    as_bytes_back = {name for index, (name, *_) in enumerate(chosen) if index in binary_back or name in sent}
    body, length = encode_response({"model_name": "m", "id": "7"}, feeds, as_bytes_back)
    by_client, by_server = client_reads(body, length), server_reads_back(body, length)
    for name, _, array, _ in chosen:
        assert_identical(by_client[name], array)
        assert_identical(by_server[name], array)


HEADER_VALUES = (
    st.text(max_size=12)
    | st.integers(-5, 200).map(str)
    | st.text("0123456789 \t-+.x", max_size=30)
    | st.integers(4290, 5000).map(lambda digits: "9" * digits)
)


@given(body=st.binary(max_size=64), declared=HEADER_VALUES)
@example(body=b"{}", declared=" 0002 ")
@example(body=b"{}", declared="\u0662")  # a digit, but not an ASCII one
def test_any_header_length_cuts_the_body_where_it_says_or_is_a_400(body: bytes, declared: str) -> None:
    cut = outcome(lambda: split_body(body, declared))
    if isinstance(cut, RequestError):
        assert isinstance(cut, BadRequest)
        assert cut.message.startswith("the Inference-Header-Content-Length header ")
        return
    header, binary = cut
    assert len(header) == int(declared.strip())
    assert header + bytes(binary) == body


# JSON text as a client could write it, beyond what json.dumps makes: NaN, 1e400, a 4,300+ digit integer.
JSON_TEXT = st.recursive(
    st.sampled_from(["null", "true", "false", "NaN", "-Infinity", "0", "-0.0", "1e400", '"\\ud800"'])
    | st.integers().map(str)
    | st.integers(4290, 4400).map(lambda digits: "9" * digits)
    | TEXT.map(json.dumps),
    lambda inner: (
        st.lists(inner, max_size=3).map(lambda items: "[" + ",".join(items) + "]")
        | st.lists(st.tuples(TEXT.map(json.dumps), inner), max_size=3).map(
            lambda pairs: "{" + ",".join(f"{key}:{value}" for key, value in pairs) + "}"
        )
    ),
    max_leaves=12,
)
HEADERS = (
    st.binary(max_size=40)
    | JSON_TEXT.map(str.encode)
    | st.tuples(JSON_TEXT, st.integers(0, 40)).map(lambda cut: cut[0][: cut[1]].encode())
    | st.integers(980, 1100).map(lambda depth: ("[" * depth + "]" * depth).encode())
)


@given(header=HEADERS)
@example(header=b'{"id": ' + b"1" * 5000 + b"}")
def test_any_json_header_parses_to_an_object_or_is_a_400(header: bytes) -> None:
    parsed = outcome(lambda: parse_header(header))
    assert isinstance(parsed, dict | BadRequest)


SIZES = st.integers(-2, 40) | st.sampled_from([2**31, 2**64, 10**30]) | st.floats() | st.booleans() | TEXT
INPUTS = st.fixed_dictionaries(
    {"name": st.sampled_from(["a", "b"]), "shape": ANY_SHAPE | st.lists(st.integers(0, 3), max_size=3)},
    optional={
        "datatype": ANY_DATATYPE,
        "parameters": st.fixed_dictionaries({}, optional={"binary_data_size": SIZES, "x": JSON_VALUES}),
        "data": DATA,
    },
)


@st.composite
def binary_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    """A JSON header of 0 to 3 inputs (any shapes, datatypes, sizes), then bytes that often fill the sizes stated."""
    document = {"inputs": draw(st.lists(INPUTS, max_size=3))}
    header = json.dumps(document | draw(st.fixed_dictionaries({}, optional={"id": TEXT, "z": JSON_VALUES})))
    tail = b""
    for tensor in document["inputs"]:
        size = tensor.get("parameters", {}).get("binary_data_size")
        stated = size if type(size) is int and 0 <= size <= 40 else 0
        tail += draw(st.binary(min_size=stated, max_size=stated) | st.binary(max_size=8))
    declared = draw(st.just(str(len(header))) | st.integers(-1, len(header) + 9).map(str))
    return header.encode() + tail, declared


@given(body=binary_bodies(), specs=st.none() | st.just({"a": TensorSpec("a", "FP32", (-1, 2), (None, None), "t")}))
def test_any_binary_body_becomes_feeds_of_the_declared_shapes_or_a_typed_4xx(
    body: tuple[bytes, str], specs: dict[str, TensorSpec] | None
) -> None:
    try:
        feeds = outcome(lambda: server_decodes(*body, specs))
    except ValidationError:
        return  # the JSON header's structure: the route answers pydantic's errors as a 400 or 422
    if isinstance(feeds, RequestError):
        return
    request = BinaryInferenceRequest.model_validate(parse_header(split_body(*body)[0]))
    for tensor in request.inputs:
        assert (feeds[tensor.name].dtype, feeds[tensor.name].shape) == (
            DATATYPE_TO_NUMPY[tensor.datatype],
            tuple(tensor.shape),
        )
    encode_response({}, feeds, set(feeds))  # an identity model's answer, as bytes, can always be sent


@given(
    parameters=st.none() | st.dictionaries(st.sampled_from(["binary_data_output", "x"]), JSON_VALUES),
    outputs=st.none()
    | st.lists(
        st.builds(
            RequestOutput,
            name=TEXT,
            parameters=st.none() | st.dictionaries(st.sampled_from(["binary_data", "x"]), JSON_VALUES),
        )
    ),
    names=st.lists(TEXT, max_size=4),
)
def test_any_binary_data_flags_choose_outputs_or_are_a_400(
    parameters: dict[str, Any] | None, outputs: list[RequestOutput] | None, names: list[str]
) -> None:
    chosen = outcome(lambda: binary_outputs(parameters, outputs, names))
    if isinstance(chosen, RequestError):
        assert isinstance(chosen, BadRequest)
        assert "must be true or false" in chosen.message
        return
    assert chosen <= set(names) | {output.name for output in outputs or ()}


OUTPUT_DTYPES = [
    *DATATYPE_TO_NUMPY.values(),
    np.dtype("complex64"),
    np.dtype(">f4"),
    np.dtype("<U3"),
    np.dtype("M8[s]"),
]


@given(
    array=st.sampled_from(OUTPUT_DTYPES).flatmap(
        lambda dtype: (
            arrays(dtype, SHAPES, elements=st.text(max_size=3) | st.binary(max_size=3))
            if dtype == np.object_
            else arrays(dtype, SHAPES)
        )
    ),
    as_bytes=st.booleans(),
)
def test_any_output_array_is_encoded_or_is_a_422(array: np.ndarray, as_bytes: bool) -> None:
    encoded = outcome(lambda: encode_response({"model_name": "m"}, {"y": array}, {"y"} if as_bytes else set()))
    if isinstance(encoded, RequestError):
        assert isinstance(encoded, Unprocessable)
        assert encoded.message.startswith("output 'y' ")
        return
    body, length = encoded
    assert json.loads(body[:length])["outputs"][0]["datatype"] in DATATYPE_TO_NUMPY
