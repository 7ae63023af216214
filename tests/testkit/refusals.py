"""What a clean refusal is (a 4xx, JSON, {"error": text} that leaks nothing a client should not see) and the
small limits the hostile-request batteries (tests/reliability) run the real local gateway under."""

from __future__ import annotations

import json
from collections.abc import Mapping

LIMITS = {"MAX_BODY_BYTES": "4096", "MAX_BATCH_SIZE": "8"}
INFER = "/v2/models/digits-cnn/infer"
JSON = "application/json"
LEAKS = ("Traceback", "/work", "site-packages", ".py", "onnxruntime 1.", "pydantic 2.", "numpy 2.")
DIGIT = {"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32", "data": [0.0] * 64}


def refusal(status: int, headers: Mapping[str, str], body: bytes | str) -> str:
    """The error message of a clean 4xx: JSON content type, {"error": text} and nothing a client should not see."""
    content_type = {key.lower(): value for key, value in headers.items()}.get("content-type", "")
    assert 400 <= status <= 499, (status, body)
    assert content_type.startswith(JSON), (content_type, body)
    parsed = json.loads(body)
    assert isinstance(parsed, dict), parsed
    assert set(parsed) == {"error"}, parsed
    message = parsed["error"]
    assert isinstance(message, str)
    assert message
    assert not [leak for leak in LEAKS if leak in message], message
    return message
