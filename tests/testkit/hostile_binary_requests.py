"""The hostile binary-extension battery: requests whose lengths lie, with the status and words each must get
(tests/reliability/test_hostile_binary_requests.py), also replayed with the thin path on and off
(tests/functional/test_thin_path.py)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from tests.testkit.binary import binary_request

OCTET_STREAM = "application/octet-stream"
REQUEST: dict[str, Any] = {"id": "x", "inputs": [{"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32"}]}
BODY, LENGTH = binary_request(REQUEST, {"input": np.zeros((1, 1, 8, 8), np.float32)})
TENSOR = BODY[LENGTH:]  # the digit's 256 bytes
WORDS = "expected the length in bytes of the JSON inference request at the start of the body"
WHOLE = "binary_data_size must be a whole number of bytes, 0 or more; got"
CHUNKED = b"5\r\nhello\r\n0\r\n\r\n"
LONG = b"a" * 65540  # past http.server's 64 KB limit for a line


def lying(size: Any = 256, tensor: bytes = TENSOR, **changes: Any) -> tuple[bytes, int]:
    """A binary request whose input states binary_data_size ``size`` and ``changes``, followed by ``tensor``."""
    header = {**REQUEST, "inputs": [{**REQUEST["inputs"][0], "parameters": {"binary_data_size": size}, **changes}]}
    head = json.dumps(header).encode()
    return head + tensor, len(head)


def headed(head: bytes, tensor: bytes = b"") -> tuple[bytes, int]:
    """The body ``head`` then ``tensor``, with ``head``'s length as the header."""
    return head + tensor, len(head)


# id: ((body, Inference-Header-Content-Length), status, words the error must hold)
BINARY_CASES: dict[str, tuple[tuple[bytes, int | str], int, str]] = {
    "header length past the body": ((BODY, len(BODY) + 5), 400, f"says {len(BODY) + 5} bytes but the whole body is"),
    "negative header length": ((BODY, -3), 400, f"header is negative (-3): {WORDS}"),
    "non-digit header length": ((BODY, "12abc"), 400, f"header is '12abc', not an integer: {WORDS}"),
    "empty header length": ((BODY, ""), 400, f"header is empty: {WORDS}"),
    "5000-digit header length": ((BODY, "9" * 5000), 400, f"says {'9' * 40} bytes but the whole body is"),
    "header length cutting the JSON": ((BODY, LENGTH - 10), 400, "malformed JSON in the JSON inference header"),
    "header length reaching into the tensor": ((BODY, LENGTH + 1), 400, "malformed JSON in the JSON inference header"),
    "header length into non-UTF-8 bytes": ((BODY[:LENGTH] + b"\xff" * 256, LENGTH + 4), 400, "is not UTF-8 text"),
    # 0 is a raw binary request (the body is the one input's bytes): a JSON header and a tensor are not instances
    "zero header length": ((BODY, 0), 400, "bytes are not a whole number of instances of 'input' with shape"),
    "header not an object": (headed(b"[1, 2]"), 400, "must be a JSON object (an inference request); got an array"),
    "header nested 1500 deep": (headed(b'{"id": ' + b"[" * 1500 + b"]" * 1500 + b"}"), 400, "nested too deeply"),
    "binary_data_size too small": (lying(255), 400, "binary_data_size is 255 but shape [1, 1, 8, 8] of FP32 needs 256"),
    "binary_data_size too large": (lying(257), 400, "binary_data_size is 257 but shape [1, 1, 8, 8] of FP32 needs 256"),
    "binary_data_size 10**30": (lying(10**30), 400, f"binary_data_size is {10**30} but shape"),
    "binary_data_size negative": (lying(-1), 400, f"{WHOLE} -1"),
    "binary_data_size a string": (lying("256"), 400, f'{WHOLE} "256"'),
    "binary_data_size past the body": (lying(512, shape=[2, 1, 8, 8]), 400, "only 256 bytes of the body are left"),
    "bytes after the tensors": (lying(256, TENSOR + b"xx"), 400, "the body goes on for 2 bytes after the 256 bytes"),
    "data and binary_data_size": (lying(256, data=[0] * 64), 400, "has both 'data' and parameters.binary_data_size"),
    "shape past int64": (lying(256, shape=[2**62, 2**62, 1, 1]), 400, f"needs {2**126} bytes"),
    "over the body limit": (headed(BODY[:LENGTH], b"\0" * 4096), 413, "over the limit of 4096 bytes (MAX_BODY_BYTES"),
    "batch of 9": (lying(2304, TENSOR * 9, shape=[9, 1, 8, 8]), 413, "a batch of 9, over the limit of 8"),
    "lone surrogate id": (headed(BODY[:LENGTH].replace(b'"x"', b'"\\udc80"'), TENSOR), 422, "lone surrogate"),
}
