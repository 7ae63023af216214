"""GIVEN bodies in the binary tensor data extension's layout, built as a client builds them WHEN split,
decoded and encoded THEN every datatype and shape round-trips exactly (NaN and FP16 included), and every
length, size or byte that lies is a 400 saying what is wrong, where and what was expected."""

from __future__ import annotations

import json

import numpy as np
import pytest

from handler.binary_tensors import binary_outputs, encode_response
from handler.errors import BadRequest, Unprocessable
from handler.request_bodies import RequestOutput
from handler.signature import DATATYPE_TO_NUMPY
from tests.testkit.binary import binary_request, client_bytes, read_binary
from tests.testkit.binary_server import SHAPES, decode, sample, tensor
from tests.testkit.tensor_samples import SAMPLES


def test_the_samples_cover_every_datatype_the_signature_module_knows() -> None:
    assert set(SAMPLES) == set(DATATYPE_TO_NUMPY)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("datatype", sorted(SAMPLES))
def test_every_datatype_and_shape_decodes_from_a_clients_bytes_exactly(datatype: str, shape: tuple[int, ...]) -> None:
    array = sample(datatype, shape)
    body, length = binary_request({"inputs": [tensor("x", array, datatype)]}, {"x": array})
    decoded = decode(body, length)["x"]
    assert decoded.dtype == array.dtype
    assert decoded.shape == shape
    assert decoded.tolist() == array.tolist()


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("datatype", sorted(SAMPLES))
def test_every_datatype_and_shape_encodes_to_what_a_client_reads_back(datatype: str, shape: tuple[int, ...]) -> None:
    array = sample(datatype, shape)
    body, length = encode_response({"model_name": "m", "id": "7"}, {"y": array}, {"y"})
    document = read_binary(body, length)
    assert document == {
        "model_name": "m",
        "id": "7",
        "outputs": [
            {
                "name": "y",
                "datatype": datatype,
                "shape": list(shape),
                "parameters": {"binary_data_size": len(client_bytes(array))},
                "data": array.ravel().tolist(),
            }
        ],
    }


def test_bytes_carry_what_json_cannot_nan_infinity_and_exact_fp16() -> None:
    half = np.array([np.nan, np.inf, -0.0, 6e-08], dtype=np.float16)  # 6e-08: the smallest subnormal
    double = np.array([-np.inf, 1e-310], dtype=np.float64)
    request = {"inputs": [tensor("h", half, "FP16"), tensor("d", double, "FP64")]}
    feeds = decode(*binary_request(request, {"h": half, "d": double}))
    assert feeds["h"].tobytes() == half.tobytes()
    assert feeds["d"].tobytes() == double.tobytes()
    body, length = encode_response({}, feeds, {"h", "d"})
    assert body[length:] == half.tobytes() + double.tobytes()
    with pytest.raises(Unprocessable, match="output 'h' contains NaN or Infinity, which JSON cannot carry"):
        encode_response({}, feeds, {"d"})  # the same NaN asked for as JSON


def test_json_and_binary_inputs_mix_in_one_request_and_outputs_choose_their_own_form() -> None:
    ints = np.array([[1, 2], [3, 4]], dtype=np.int32)
    request = {
        "inputs": [
            {"name": "a", "shape": [2], "datatype": "BOOL", "data": [True, False]},
            tensor("b", ints, "INT32"),
            {"name": "c", "shape": [1], "datatype": "BYTES", "data": ["z"]},
        ]
    }
    feeds = decode(*binary_request(request, {"b": ints}))
    assert {name: array.tolist() for name, array in feeds.items()} == {
        "a": [True, False],
        "b": [[1, 2], [3, 4]],
        "c": ["z"],
    }
    body, length = encode_response({}, feeds, {"b"})
    outputs = json.loads(body[:length])["outputs"]
    assert [output.get("data") for output in outputs] == [[True, False], None, ["z"]]
    assert body[length:] == ints.astype("<i4").tobytes()


def test_an_outputs_binary_data_overrides_the_requests_binary_data_output() -> None:
    def output(name: str, binary: object) -> RequestOutput:
        return RequestOutput(name=name, parameters={"binary_data": binary})

    names = ["p", "q", "r"]
    assert binary_outputs({"binary_data_output": True}, [output("q", False)], names) == {"p", "r"}
    assert binary_outputs(None, [output("r", True)], names) == {"r"}
    assert binary_outputs({"binary_data_output": False}, None, names) == set()
    with pytest.raises(BadRequest) as info:
        binary_outputs({"binary_data_output": "yes"}, None, names)
    assert info.value.message == 'the request: parameters.binary_data_output must be true or false; got "yes"'
    with pytest.raises(BadRequest) as info:
        binary_outputs(None, [output("q", 1)], names)
    assert info.value.message == "output 'q': parameters.binary_data must be true or false; got 1"
