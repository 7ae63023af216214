"""Request bodies sent compressed (``Content-Encoding: gzip`` or ``deflate``), as Triton's client sends them with
``request_compression_algorithm``, decoded before anything reads the body.

The decoded size counts against MAX_BODY_BYTES as a plain body does: zlib is asked for at most one byte more than
the limit, so a few kilobytes that would inflate to gigabytes (a zip bomb) cost the limit and no more, and are a
413. BodyLimit, outside this, has already bounded the compressed bytes.
"""

from __future__ import annotations

import zlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handler.api.errors import error_response

# zlib's window bits: 16 + 15 reads gzip, 15 the zlib format HTTP's "deflate" is; 32 + 15 detects either.
WBITS = {b"gzip": 31, b"x-gzip": 31, b"deflate": 47}


class TooLarge(ValueError):
    """The body inflates past the limit."""


def inflate(data: bytes, encoding: bytes, limit: int) -> bytes:
    """The decoded body; raises TooLarge past ``limit`` bytes, zlib.error for data that is not of the encoding."""
    decoder = zlib.decompressobj(WBITS[encoding])
    out = decoder.decompress(data, limit + 1)
    if len(out) > limit or decoder.unconsumed_tail:
        raise TooLarge
    out += decoder.flush()
    if len(out) > limit:
        raise TooLarge
    return out


class RequestDecompression:
    """Decode a gzip or deflate request body (bounded), and refuse other encodings by name."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope.get("headers", []) if scope["type"] == "http" else []
        encoding = next((value.strip().lower() for name, value in headers if name == b"content-encoding"), b"identity")
        if encoding in (b"identity", b""):
            await self.app(scope, receive, send)
            return
        answer = await self._decoded(scope, receive, encoding)
        if isinstance(answer, tuple):
            status, message = answer
            await error_response(status, message)(scope, receive, send)
            return
        kept = [(name, value) for name, value in headers if name not in (b"content-encoding", b"content-length")]
        decoded_scope = {**scope, "headers": [*kept, (b"content-length", str(len(answer)).encode())]}

        async def replay() -> Message:
            return {"type": "http.request", "body": answer, "more_body": False}

        await self.app(decoded_scope, replay, send)

    async def _decoded(self, scope: Scope, receive: Receive, encoding: bytes) -> bytes | tuple[int, str]:
        """The decoded body, or the status and message refusing it."""
        name = encoding.decode("latin-1")[:40]
        if encoding not in WBITS:
            return 415, f"Content-Encoding {name!r} is not supported: send the body as gzip, deflate or uncompressed"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            return inflate(body, encoding, self.max_bytes)
        except TooLarge:
            return 413, (
                f"the {name} request body inflates past the limit of {self.max_bytes} bytes (MAX_BODY_BYTES counts "
                "the decoded body); send fewer instances per request or use the batch path"
            )
        except zlib.error as exc:
            return 400, f"the request body says Content-Encoding {name} but is not {name} data ({exc})"
