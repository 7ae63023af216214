"""Exception handlers and an ASGI guard that keep the one JSON error shape for every failure.

FastAPI answers validation problems with its own shape and Starlette answers crashes in plain text;
both are replaced here, and anything unexpected is logged with its stack trace and answered as JSON
without one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handler.errors import ApiError
from handler.observability import logger


def error_response(status: int, message: str) -> JSONResponse:
    """The body every error gets: {"error": "..."}."""
    return JSONResponse({"error": message}, status_code=status)


def _location(loc: Sequence[Any]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def describe_validation(errors: Sequence[Any]) -> tuple[int, str]:
    """Status and message for pydantic's errors: malformed JSON is 400, a wrong structure 422."""
    for error in errors:
        if error.get("type") == "json_invalid":
            ctx = error.get("ctx") or {}
            return 400, f"malformed JSON in the request body: {ctx.get('error', 'cannot be parsed')}"
    parts = []
    for error in errors[:5]:
        got = error.get("input")
        shown = json.dumps(got)[:80] if isinstance(got, str | int | float | bool) else type(got).__name__
        parts.append(f"{_location(error.get('loc', ()))}: {error.get('msg')} (got {shown})")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return 422, "invalid request body: " + "; ".join(parts) + more


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.message)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    status, message = describe_validation(exc.errors())
    return error_response(status, message)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"no route {request.method} {request.url.path}; see /docs for the API"
    elif exc.status_code == 400:  # FastAPI's own word for a body it cannot decode at all
        message = f"malformed JSON in the request body: {exc.detail} (send UTF-8 encoded JSON)"
    elif exc.status_code == 413:
        message = (
            f"request body is over the limit of {request.app.state.max_body_bytes} bytes (MAX_BODY_BYTES; Lambda's "
            "synchronous payload limit is 6 MB); send fewer instances per request or use the batch path"
        )
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    response = error_response(exc.status_code, message)
    response.headers.update(exc.headers or {})
    return response


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", extra={"path": request.url.path, "method": request.method})
    return error_response(500, "internal error while serving the request; it has been logged")


def install_error_handlers(app: FastAPI) -> None:
    """Register the JSON error shape for our errors, validation, HTTP errors and crashes."""
    app.add_exception_handler(ApiError, _api_error)
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
            await error_response(500, "internal error while serving the request; it has been logged")(
                scope, receive, send
            )
