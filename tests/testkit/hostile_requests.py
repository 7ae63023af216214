"""The hostile JSON request battery: requests whose every part is wrong in one way, with the status and words each
must get (tests/reliability/test_hostile_requests.py), also replayed with the thin path on and off
(tests/functional/test_thin_path.py)."""

from __future__ import annotations

import json
from typing import Any

from tests.testkit.refusals import DIGIT, INFER, JSON


def infer_body(*, raw: str | None = None, ascii_only: bool = True, **changes: Any) -> bytes:
    """An infer request for one digit with ``changes`` to its input; ``raw`` replaces its first value verbatim."""
    body = json.dumps({"inputs": [{**DIGIT, **changes}]}, ensure_ascii=ascii_only)
    return body.replace("[0.0,", f"[{raw},", 1).encode() if raw is not None else body.encode()


def request(**extra: Any) -> bytes:
    """An infer request for one digit with ``extra`` top-level members."""
    return json.dumps({"inputs": [DIGIT], **extra}).encode()


def predict(instances: Any) -> bytes:
    """A /predict request for ``instances``."""
    return json.dumps({"instances": instances}).encode()


PREDICT = "/predict"
OVERFLOW = [2**62, 2**62, 1, 1]  # 2**124 elements: past int64, and numpy's size arithmetic
NESTED = "[" * 1500 + "]" * 1500
MALFORMED = "malformed JSON in the request body at character"
SENT_AS = "Expecting value (the body was sent as application/"
EMPTY = "the request body is empty: expected a JSON object"
NOT_FINITE = "value at flat index 0 is NaN or Infinity"
STRINGS = "expected numbers for datatype FP32, got strings"
BATCH = "has a batch of 9, over the limit of 8 (MAX_BATCH_SIZE)"
HOLDS = "values but 'data' holds 64"
OVER_BY_ONE = b"{" + b" " * 4095 + b"}"  # 4097 bytes
# id: (path, body, content type, status, words the error must hold)
CASES: dict[str, tuple[str, bytes, str, int, str]] = {
    "malformed JSON": (PREDICT, b'{"instances": [[1, 2,]]}', JSON, 400, f"{MALFORMED} 21: Expecting value"),
    "truncated JSON": (PREDICT, b'{"instances": [[1, 2', JSON, 400, f"{MALFORMED} 20: Expecting ',' delimiter"),
    "infer JSON cut short": (INFER, request()[:-7], JSON, 400, MALFORMED),
    "a form's text": (
        PREDICT,
        b"instances=1",
        "application/x-www-form-urlencoded",
        400,
        f"{SENT_AS}x-www-form-urlencoded",
    ),
    "xml to infer": (INFER, b"<request/>", "application/xml", 400, f"{SENT_AS}xml; bodies are read as JSON whatever"),
    "empty predict body": (PREDICT, b"", JSON, 400, EMPTY),
    "empty infer body": (INFER, b"", JSON, 400, EMPTY),
    "one byte over the body limit": (PREDICT, OVER_BY_ONE, JSON, 413, "of 4097 bytes is over the limit of 4096"),
    "100x the body limit": (INFER, predict([[0] * 64] * 2000), JSON, 413, "bytes is over the limit of 4096 bytes"),
    "instances nested 1500 deep": (PREDICT, f'{{"instances": {NESTED}}}'.encode(), JSON, 400, "nested too deeply"),
    "data nested 1500 deep": (INFER, infer_body(raw=NESTED), JSON, 400, "nested too deeply"),
    "shape past int64": (INFER, infer_body(shape=OVERFLOW), JSON, 400, f"needs {2**124} {HOLDS}"),
    "shape larger than data": (INFER, infer_body(shape=[2, 1, 8, 8]), JSON, 400, f"needs 128 {HOLDS}"),
    "shape smaller than data": (INFER, infer_body(shape=[1, 1, 8, 4]), JSON, 400, f"needs 32 {HOLDS}"),
    "negative dimension": (INFER, infer_body(shape=[-1, 1, 8, 8]), JSON, 400, "[-1, 1, 8, 8] has a negative dimension"),
    "zero batch": (INFER, infer_body(shape=[0, 1, 8, 8], data=[]), JSON, 400, "is empty (shape [0, 1, 8, 8])"),
    "zero inner dimension": (INFER, infer_body(shape=[1, 0, 8, 8], data=[]), JSON, 400, "which does not fit"),
    "70 dimensions": (INFER, infer_body(shape=[1] * 70, data=[0]), JSON, 400, "has 70 dimensions; expected at most 64"),
    "NaN": (INFER, infer_body(raw="NaN"), JSON, 400, NOT_FINITE),
    "Infinity": (INFER, infer_body(raw="Infinity"), JSON, 400, NOT_FINITE),
    "-Infinity": (INFER, infer_body(raw="-Infinity"), JSON, 400, NOT_FINITE),
    "1e400": (INFER, infer_body(raw="1e400"), JSON, 400, NOT_FINITE),
    "1e400 to predict": (PREDICT, predict([[0] * 63]).replace(b"[[", b"[[1e400, "), JSON, 400, NOT_FINITE),
    "strings for numbers": (INFER, infer_body(data=["1"] * 64), JSON, 400, STRINGS),
    "strings to predict": (PREDICT, predict([["0"] * 64]), JSON, 400, STRINGS),
    "booleans for numbers": (INFER, infer_body(data=[True] * 64), JSON, 400, "for datatype FP32, got booleans"),
    "shape as strings": (INFER, infer_body(shape=list("1188")), JSON, 422, "shape[0]: Input should be a valid integer"),
    "wrong datatype": (INFER, infer_body(datatype="FP64"), JSON, 400, "has datatype 'FP64': expected"),
    "duplicate input": (INFER, request(inputs=[DIGIT, DIGIT]), JSON, 400, "input 'input' appears more than once"),
    "missing input": (INFER, infer_body(name="pixels"), JSON, 400, "unknown input 'pixels'; missing input 'input'"),
    "extra input": (INFER, request(inputs=[DIGIT, {**DIGIT, "name": "extra"}]), JSON, 400, "unknown input 'extra'"),
    "accented input name": (INFER, infer_body(name="ínpüt"), JSON, 400, "unknown input 'ínpüt'"),
    "emoji input name in UTF-8": (INFER, infer_body(name="🤖", ascii_only=False), JSON, 400, "unknown input '🤖'"),
    "unknown output": (INFER, request(outputs=[{"name": "logits"}]), JSON, 400, "unknown output 'logits'"),
    "lone surrogate id": (INFER, request(id="\udc80"), JSON, 422, "body.id: Value error, holds a lone surrogate"),
    "number id": (INFER, request(id=7), JSON, 422, "body.id: Input should be a valid string (got 7)"),
    "unknown member of a wrong type": (
        INFER,
        request(extra=1, outputs=7),
        JSON,
        422,
        "body.outputs: Input should be a valid list",
    ),
    "duplicate output": (
        INFER,
        request(outputs=[{"name": "label"}] * 2),
        JSON,
        400,
        "output 'label' is requested more than once",
    ),
    "array for a request": (INFER, b"[]", JSON, 422, "Input should be a valid dictionary"),
    "predict batch of 9": (PREDICT, predict([[0] * 64] * 9), JSON, 413, BATCH),
    "infer batch of 9": (INFER, infer_body(shape=[9, 1, 8, 8], data=[0] * 576), JSON, 413, BATCH),
    "unknown model": (
        "/v2/models/other/infer",
        request(),
        JSON,
        404,
        "Request for unknown model: 'other' is not served",
    ),
    "unknown version": ("/v2/models/digits-cnn/versions/9/infer", request(), JSON, 404, "has no version '9'"),
}
