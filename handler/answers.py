"""How an HTTP answer's body is rendered, in one place for the FastAPI app and the thin path (handler.thin_path):
the status of each kind of request error, the JSON error body, JSON answers, and when and how an answer is gzipped.

No FastAPI here: the thin path answers without importing it, and both must give the same bytes.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import pydantic_core

from handler.errors import (
    BadRequest,
    NotFound,
    NotReady,
    PayloadTooLarge,
    RequestError,
    Unprocessable,
    UnsupportedMedia,
    bounded,
)

# The HTTP status each kind of request error is answered with: the domain errors (handler.errors) know nothing
# of HTTP, so the batch path and the jobs use the same errors without it.
STATUS_OF: dict[type[RequestError], int] = {
    BadRequest: 400,
    NotFound: 404,
    PayloadTooLarge: 413,
    UnsupportedMedia: 415,
    Unprocessable: 422,
    NotReady: 503,
}

INTERNAL_ERROR = "internal error while serving the request; it has been logged"
JSON = "application/json"


def status_of(error: RequestError) -> int:
    """The status of the error's kind, or of the nearest kind it derives from (400 for any other)."""
    return next((STATUS_OF[kind] for kind in type(error).__mro__ if kind in STATUS_OF), 400)


def error_bytes(message: str) -> bytes:
    """The body every error gets, {"error": "..."}, its message bounded (handler.errors.bounded), rendered as
    Starlette's JSONResponse renders."""
    content = {"error": bounded(message)}
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


def json_bytes(content: Any) -> bytes:
    """A JSON answer, rendered by pydantic-core (compact UTF-8, several times faster than json for thousands of
    floats); only ever given finite numbers: the data plane refuses NaN outputs first."""
    return pydantic_core.to_json(content)


# Answers of a kilobyte or more are gzipped for a client that accepts it (Accept-Encoding): 256 digits' JSON
# answer shrinks about 3x, and an answer near Lambda's 6 MB limit fits again; level 5 is most of the gain for
# a fraction of level 9's time.
ANSWER_GZIP_BYTES = 1024
GZIP_LEVEL = 5


def gzip_bytes(body: bytes) -> bytes:
    """``body`` gzipped as Starlette's GZipMiddleware does it (zlib's gzip container, no file name, mtime 0)."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(body) + compressor.flush()


# Lambda refuses a synchronous response over 6 MB (6,291,456 bytes of the JSON the runtime writes), and API
# Gateway or the load balancer then answers 5xx; an answer that would be larger gets a 413 saying so instead.
LAMBDA_RESPONSE_BYTES = 6_291_456
# A body shorter than this cannot reach the limit whatever JSON escaping does to it (at most 6 bytes a character).
_SURELY_UNDER_CHARS = (LAMBDA_RESPONSE_BYTES - 65_536) // 6


def lambda_payload_bytes(answer: dict[str, Any]) -> int:
    """The answer's size as Lambda's Python runtime sends it: JSON with ensure_ascii=False, in UTF-8."""
    return len(json.dumps(answer, ensure_ascii=False).encode("utf-8", "surrogatepass"))


def oversized(answer: dict[str, Any]) -> int | None:
    """The answer's size when it is over LAMBDA_RESPONSE_BYTES, else None (measured only for large bodies)."""
    body = answer.get("body")
    if not isinstance(body, str) or len(body) < _SURELY_UNDER_CHARS:
        return None
    size = lambda_payload_bytes(answer)
    return size if size > LAMBDA_RESPONSE_BYTES else None


def oversized_error(size: int) -> dict[str, Any]:
    """The 413's body for an answer of ``size`` bytes, over what Lambda can return."""
    return {
        "error": (
            f"the answer would be {size} bytes as Lambda returns it, over its limit of {LAMBDA_RESPONSE_BYTES} "
            "bytes for a synchronous response: send fewer instances per request, ask for fewer outputs "
            "or shorter ids, or score them on the batch path"
        ),
        "limit_bytes": LAMBDA_RESPONSE_BYTES,
        "answer_bytes": size,
    }
