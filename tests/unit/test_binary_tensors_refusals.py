"""GIVEN binary tensor data extension bodies whose header length, sizes or bytes lie WHEN the server splits
and decodes them THEN each is a 400 saying what is wrong, where and what was expected."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from handler.signature import TensorSpec
from tests.testkit.binary import binary_request
from tests.testkit.binary_server import HEADER_ERROR, decode, refused, tensor

FOUR_FLOATS = np.arange(4, dtype=np.float32)
BODY, LENGTH = binary_request({"inputs": [tensor("x", FOUR_FLOATS, "FP32")]}, {"x": FOUR_FLOATS})


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ("", f"the Inference-Header-Content-Length header is empty: {HEADER_ERROR}"),
        ("  ", f"the Inference-Header-Content-Length header is empty: {HEADER_ERROR}"),
        ("abc", f"the Inference-Header-Content-Length header is 'abc', not an integer: {HEADER_ERROR}"),
        ("12.0", f"the Inference-Header-Content-Length header is '12.0', not an integer: {HEADER_ERROR}"),
        ("0x1f", f"the Inference-Header-Content-Length header is '0x1f', not an integer: {HEADER_ERROR}"),
        ("-5", f"the Inference-Header-Content-Length header is negative (-5): {HEADER_ERROR}"),
        (
            str(len(BODY) + 1),
            f"the Inference-Header-Content-Length header says {len(BODY) + 1} bytes but the whole body is "
            f"{len(BODY)}: {HEADER_ERROR}",
        ),
        (
            "9" * 5000,
            f"the Inference-Header-Content-Length header says {'9' * 40} bytes but the whole body is {len(BODY)}: "
            f"{HEADER_ERROR}",
        ),
    ],
    ids=["empty", "blank", "word", "decimal", "hex", "negative", "past-the-body", "5000-digits"],
)
def test_a_header_length_that_is_not_a_length_within_the_body_is_400(declared: str, message: str) -> None:
    assert refused(BODY, declared) == (400, message)


def test_a_header_length_with_surrounding_spaces_is_read() -> None:
    assert decode(BODY, f" {LENGTH} ")["x"].tolist() == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("length", "message"),
    [
        (
            0,
            "the JSON inference header (the first 0 bytes of the body, per Inference-Header-Content-Length) is "
            "empty: the body must start with the JSON inference request",
        ),
        (
            LENGTH - 1,
            f"malformed JSON in the JSON inference header (the first {LENGTH - 1} bytes of the body, per "
            f"Inference-Header-Content-Length): Expecting ',' delimiter at position {LENGTH - 1}; "
            "Inference-Header-Content-Length must be the length in bytes of the JSON request exactly",
        ),
        (
            LENGTH + 1,
            f"malformed JSON in the JSON inference header (the first {LENGTH + 1} bytes of the body, per "
            f"Inference-Header-Content-Length): Extra data at position {LENGTH}; "
            "Inference-Header-Content-Length must be the length in bytes of the JSON request exactly",
        ),
    ],
    ids=["zero", "one-short", "one-long"],
)
def test_a_header_length_that_cuts_the_json_in_the_wrong_place_is_400(length: int, message: str) -> None:
    assert refused(BODY, length) == (400, message)


def test_a_header_length_reaching_into_non_utf8_bytes_is_400() -> None:
    body = BODY[:LENGTH] + b"\xff" * 16
    assert refused(body, LENGTH + 1) == (
        400,
        f"the JSON inference header (the first {LENGTH + 1} bytes of the body, per Inference-Header-Content-Length) "
        "is not UTF-8 text; does it reach into the tensor bytes? Inference-Header-Content-Length must be the "
        "length in bytes of the JSON request exactly",
    )


def test_a_header_that_is_not_a_json_object_is_400() -> None:
    assert refused(b"[1, 2]", 6) == (
        400,
        "the JSON inference header (the first 6 bytes of the body, per Inference-Header-Content-Length) must be "
        "a JSON object (an inference request); got an array",
    )


def with_input(fields: dict[str, Any], binary: bytes) -> tuple[bytes, int]:
    header = json.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 2], **fields}]}).encode()
    return header + binary, len(header)


FP32_X4 = FOUR_FLOATS.tobytes()


@pytest.mark.parametrize(
    ("fields", "binary", "message"),
    [
        (
            {"parameters": {"binary_data_size": -1}},
            FP32_X4,
            "input 'x': parameters.binary_data_size must be a whole number of bytes, 0 or more; got -1",
        ),
        (
            {"parameters": {"binary_data_size": 16.0}},
            FP32_X4,
            "input 'x': parameters.binary_data_size must be a whole number of bytes, 0 or more; got 16.0",
        ),
        (
            {"parameters": {"binary_data_size": "16"}},
            FP32_X4,
            "input 'x': parameters.binary_data_size must be a whole number of bytes, 0 or more; got \"16\"",
        ),
        (
            {"parameters": {"binary_data_size": True}},
            FP32_X4,
            "input 'x': parameters.binary_data_size must be a whole number of bytes, 0 or more; got true",
        ),
        (
            {"parameters": {"binary_data_size": 12}},
            FP32_X4[:12],
            "input 'x': parameters.binary_data_size is 12 but shape [2, 2] of FP32 needs 16 bytes "
            "(4 elements of 4 bytes)",
        ),
        (
            {"shape": [2**40, 2**40], "parameters": {"binary_data_size": 16}},
            FP32_X4,
            f"input 'x': parameters.binary_data_size is 16 but shape [{2**40}, {2**40}] of FP32 needs "
            f"{2**82} bytes ({2**80} elements of 4 bytes)",
        ),
        (
            {"parameters": {"binary_data_size": 16}},
            FP32_X4[:10],
            "input 'x': parameters.binary_data_size is 16 but only 10 bytes of the body are left for it; expected "
            "its bytes right after those of the inputs before it (check Inference-Header-Content-Length)",
        ),
        (
            {"parameters": {"binary_data_size": 16}},
            FP32_X4 + b"\x00" * 3,
            "the body goes on for 3 bytes after the 16 bytes the inputs' parameters.binary_data_size add up to: "
            "expected it to end there (check Inference-Header-Content-Length and each size)",
        ),
        (
            {"data": [1, 2, 3, 4]},
            FP32_X4,
            "the body goes on for 16 bytes after the 0 bytes the inputs' parameters.binary_data_size add up to: "
            "expected it to end there (check Inference-Header-Content-Length and each size)",
        ),
        (
            {},
            b"",
            "input 'x' has neither 'data' nor parameters.binary_data_size: give its values in 'data', or its bytes "
            "after the JSON header with their count in parameters.binary_data_size",
        ),
        (
            {"data": [1, 2, 3, 4], "parameters": {"binary_data_size": 16}},
            FP32_X4,
            "input 'x' has both 'data' and parameters.binary_data_size: send its values one way",
        ),
        (
            {"shape": [-2, -2], "parameters": {"binary_data_size": 16}},
            FP32_X4,
            "input 'x': shape [-2, -2] has a negative dimension",
        ),
        (
            {"datatype": "BF16", "parameters": {"binary_data_size": 8}},
            FP32_X4[:8],
            "input 'x': datatype 'BF16' cannot be sent as binary input; use one of BOOL, UINT8, UINT16, UINT32, "
            "UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES",
        ),
        (
            {"datatype": "BOOL", "shape": [4], "parameters": {"binary_data_size": 4}},
            b"\x00\x01\x02\x01",
            "input 'x': BOOL element at flat index 2 is the byte 2; expected 0 or 1",
        ),
    ],
    ids=[
        "negative-size",
        "float-size",
        "string-size",
        "boolean-size",
        "size-short-of-shape",
        "shape-of-2**80-elements",
        "bytes-missing",
        "bytes-left-over",
        "bytes-after-json-only-inputs",
        "neither-data-nor-size",
        "both-data-and-size",
        "negative-dimension",
        "unsendable-datatype",
        "bool-byte-2",
    ],
)
def test_an_input_whose_size_or_bytes_lie_is_400(fields: dict[str, Any], binary: bytes, message: str) -> None:
    assert refused(*with_input(fields, binary)) == (400, message)


def strings(*items: bytes) -> bytes:
    return b"".join(len(item).to_bytes(4, "little") + item for item in items)


@pytest.mark.parametrize(
    ("binary", "size", "message"),
    [
        (
            strings(b"a"),
            5,
            "input 's': parameters.binary_data_size is 5 but shape [2] of BYTES needs at least 8 bytes "
            "(a 4-byte length for each of its 2 elements)",
        ),
        (
            (10).to_bytes(4, "little") + b"abc" + b"\x00" * 4,
            11,
            "input 's': BYTES element at flat index 0 says 10 bytes but only 7 of its binary_data_size are left",
        ),
        (
            strings(b"abc") + b"\x01\x00",
            9,
            "input 's': BYTES element at flat index 1 has no 4-byte length: its binary_data_size ends after 7 bytes",
        ),
        (
            strings(b"a", b"b") + b"\x00",
            11,
            "input 's': 1 bytes are left after its 2 BYTES elements: expected binary_data_size to be the sum of "
            "their lengths plus 4 bytes each",
        ),
        (
            strings(b"ok", b"\xff\xfe"),
            12,
            "input 's': BYTES element at flat index 1 is not UTF-8, which onnxruntime's string tensors need",
        ),
    ],
    ids=["size-below-the-length-prefixes", "element-past-the-end", "truncated-prefix", "left-over", "not-utf8"],
)
def test_bytes_elements_that_do_not_fill_their_size_exactly_are_400(binary: bytes, size: int, message: str) -> None:
    header = json.dumps(
        {"inputs": [{"name": "s", "shape": [2], "datatype": "BYTES", "parameters": {"binary_data_size": size}}]}
    ).encode()
    assert refused(header + binary, len(header)) == (400, message)


def test_the_checks_the_json_path_makes_apply_to_binary_inputs_in_the_same_words() -> None:
    spec = TensorSpec("x", "FP64", (-1, 2), (None, None), "tensor(double)")
    assert refused(BODY, LENGTH, {"x": spec}) == (
        400,
        "input 'x' has datatype 'FP32': expected 'x' with shape [?, 2] and datatype FP64",
    )
    body = json.dumps(
        {"inputs": [{**tensor("x", FOUR_FLOATS, "FP32"), "parameters": {"binary_data_size": 16}}] * 2}
    ).encode()
    assert refused(body + FP32_X4 * 2, len(body)) == (400, "input 'x' appears more than once in 'inputs'")
