"""POST /predict with an image as the body (image/png, image/jpeg, image/webp) or as multipart/form-data uploads
(``curl -F file=@cat.png``), the way image APIs are called; JSON bodies go to the route as before.

FastAPI reads a body only as JSON or as a declared form, so ``PredictRoute`` serves these two media types itself
before FastAPI reads anything (as InferRoute serves the binary extension): one header lookup on the JSON path.
Every file part of a multipart body is one image, in order, whatever its field name. A body whose type says
nothing (curl's ``--data-binary`` default, octet-stream) is an image when it starts like one. ``?top_k=`` asks for the k
most probable classes, as the JSON body's ``top_k`` field does.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from handler.api.deps import ready_plane
from handler.api.fast_json import FastJsonResponse, FastJsonRoute
from handler.errors import BadRequest, UnsupportedMedia

IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
MULTIPART = "multipart/form-data"
MAX_PARTS = 1000  # Starlette's own default for files and for fields


def media_type(request: Request) -> str:
    """The body's declared media type, lowercased, without its parameters."""
    return (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()


def top_k_query(request: Request) -> int | None:
    """``?top_k=`` as a positive integer, or None; raises BadRequest for anything else."""
    given = request.query_params.get("top_k")
    if given is None:
        return None
    if not given.isdigit() or int(given) < 1:
        raise BadRequest(f"query parameter top_k is {given[:20]!r}: expected a positive integer")
    return int(given)


async def _uploads(request: Request) -> list[bytes]:
    """The files of a multipart body, in order."""
    try:
        async with request.form(max_files=MAX_PARTS, max_fields=MAX_PARTS) as form:
            files = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
            images = [await upload.read() for upload in files]
    except HTTPException as exc:  # Starlette's answer to what python-multipart refuses (no boundary, bad headers)
        raise BadRequest(f"the multipart/form-data body cannot be read ({exc.detail}): expected file parts") from None
    except (AssertionError, ValueError, KeyError) as exc:
        raise BadRequest(f"the multipart/form-data body cannot be read ({exc}): expected file parts") from None
    if not images:
        raise BadRequest(
            "the multipart/form-data body has no file part: send the image as a file (curl -F file=@a.png)"
        )
    return images


async def posted_images(request: Request) -> list[bytes]:
    """The images a request posts: its body (one image) or its multipart files; raises UnsupportedMedia for an
    image type no decoder here reads."""
    declared = media_type(request)
    if declared == MULTIPART:
        return await _uploads(request)
    if declared not in IMAGE_TYPES:
        raise UnsupportedMedia(
            f"content-type {declared} is not an image type this server decodes: expected {', '.join(IMAGE_TYPES)}, "
            f"{MULTIPART}, or JSON"
        )
    return [await request.body()]


# What curl sends with --data-binary and no -H, and what a client sends for "some bytes": the body itself says
# whether it is an image (its file signature), so `curl --data-binary @cat.png` works as image APIs allow.
SNIFFED_TYPES = ("", "application/x-www-form-urlencoded", "application/octet-stream")
SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8")


def looks_like_an_image(body: bytes) -> bool:
    """A PNG, JPEG, GIF or WebP file signature (a GIF is then refused by the decoder, saying so)."""
    return body.startswith(SIGNATURES) or (body[:4] == b"RIFF" and body[8:12] == b"WEBP")


async def _image_predict(request: Request, images: list[bytes] | None = None) -> Response:
    plane = await ready_plane(request)
    top_k = top_k_query(request)
    return FastJsonResponse(plane.predict_images(images or await posted_images(request), top_k))


def _replayed(request: Request, body: bytes) -> Request:
    """The request with its body, already read, to be read again by FastAPI's handler."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)


class PredictRoute(FastJsonRoute):
    """/predict: image and multipart bodies served here, JSON ones by FastAPI's handler untouched; a body sent
    without a type of its own (curl's form default, octet-stream) is looked at first."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler for JSON bodies, ``_image_predict`` for images."""
        json_handler = super().get_route_handler()

        async def handler(request: Request) -> Response:
            declared = media_type(request)
            if declared == MULTIPART or declared.startswith("image/"):
                return await _image_predict(request)
            if declared in SNIFFED_TYPES:
                body = await request.body()
                if looks_like_an_image(body):
                    return await _image_predict(request, [body])
                request = _replayed(request, body)
            return await json_handler(request)

        return handler


IMAGE_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "content": {
            **{kind: {"schema": {"type": "string", "format": "binary"}} for kind in IMAGE_TYPES},
            MULTIPART: {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "description": "Each file part is one image, in order (image models only)",
                }
            },
        }
    },
    "parameters": [
        {
            "name": "top_k",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1},
            "description": "For classifiers: the k most probable classes only, best first",
        }
    ],
}
