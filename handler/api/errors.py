"""Exception handlers and ASGI wrappers that keep the one JSON error shape for every failure.

FastAPI answers validation problems with its own shape and Starlette answers crashes in plain text;
both are replaced here, and anything unexpected is logged with its stack trace and answered as JSON
without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handler.answers import INTERNAL_ERROR, JSON, error_bytes, status_of
from handler.api.fast_json import DECLARED
from handler.binary_tensors import HEADER_NAME
from handler.errors import RequestError
from handler.observability import logger
from handler.request_bodies import invalid_fields


def error_response(status: int, message: str) -> Response:
    """The body every error gets: {"error": "..."} (handler.answers.error_bytes)."""
    return Response(error_bytes(message), status_code=status, media_type=JSON)


def describe_validation(errors: Sequence[Any]) -> tuple[int, str]:
    """Status and message for pydantic's errors: malformed JSON is 400, a wrong structure 422."""
    for error in errors:
        if error.get("type") == "missing" and tuple(error.get("loc", ())) == ("body",):
            return 400, "the request body is empty: expected a JSON object (see /docs for each route's schema)"
        if error.get("type") == "json_invalid":
            ctx = error.get("ctx") or {}
            loc = tuple(error.get("loc", ()))
            where = f" at character {loc[1]}" if len(loc) > 1 and isinstance(loc[1], int) else ""
            return 400, f"malformed JSON in the request body{where}: {ctx.get('error', 'cannot be parsed')}"
    return 422, "invalid request body: " + invalid_fields(errors)


def _binary_without_header(errors: Sequence[Any]) -> str | None:
    """The message for an input whose bytes were meant to follow the JSON but the header that says so is missing."""
    for error in errors:
        given = error.get("input")
        parameters = given.get("parameters") if isinstance(given, dict) else None
        missing_data = error.get("type") == "missing" and tuple(error.get("loc", ()))[-1:] == ("data",)
        if missing_data and isinstance(parameters, dict) and "binary_data_size" in parameters:
            return (
                f"input {given.get('name')!r} gives parameters.binary_data_size but the request has no {HEADER_NAME} "
                "header: send it with the length in bytes of the JSON part (the binary tensor data extension), "
                "or give the input's values in 'data'"
            )
    return None


async def _api_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestError)
    return error_response(status_of(exc), exc.message)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(tuple(error.get("loc", ())) == ("body",) and isinstance(error.get("input"), bytes) for error in errors):
        # FastAPI leaves a body undecoded unless it is declared JSON: say so instead of "got bytes".
        declared = request.headers.get("content-type") or "none"
        return error_response(
            415, f"the request body must be JSON sent with content-type application/json; got {declared}"
        )
    binary = _binary_without_header(errors)
    if binary is not None:
        return error_response(400, binary)
    status, message = describe_validation(errors)
    sent_as = request.scope.get(DECLARED)
    if sent_as and status == 400:
        message += f" (the body was sent as {sent_as}; bodies are read as JSON whatever their type)"
    return error_response(status, message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"no route {request.method} {request.url.path}; see /docs for the API"
    elif exc.status_code == 400:  # FastAPI's own word for a body it cannot decode at all
        message = "malformed JSON in the request body: it cannot be parsed (not UTF-8, or nested too deeply)"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    response = error_response(exc.status_code, message)
    response.headers.update(exc.headers or {})
    return response


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error", extra={"path": request.url.path, "method": request.method})
    return error_response(500, INTERNAL_ERROR)


def install_error_handlers(app: FastAPI) -> None:
    """Register the JSON error shape for our errors, validation, HTTP errors and crashes."""
    app.add_exception_handler(RequestError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


class ErrorGuard:
    """Outermost ASGI wrapper: Starlette re-raises a crash after answering it; stop it here, answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if started:  # already answered as JSON by the handler above, and logged there
                return
            logger.exception("unhandled error outside the app")
            await error_response(500, INTERNAL_ERROR)(scope, receive, send)


class BodyLimit:
    """Refuse bodies over MAX_BODY_BYTES with 413 before any parsing; Lambda delivers bodies whole.

    Not FastAPI's ``max_body_size``: Starlette's limiter behind it answers a declared Content-Length
    over the limit with a text/plain "Content Too Large" that no exception handler can reshape, which
    would break the one JSON error shape.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(int(declared), scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(size, scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, size: int, scope: Scope, receive: Receive, send: Send) -> None:
        message = (
            f"request body of {size} bytes is over the limit of {self.max_bytes} bytes (MAX_BODY_BYTES; "
            "Lambda's synchronous payload limit is 6 MB); send fewer instances per request or use the batch path"
        )
        await error_response(413, message)(scope, receive, send)
