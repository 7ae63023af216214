"""The hot routes answered straight from the HTTP API event, without Mangum, FastAPI or asyncio: POST /predict with a
JSON body and POST /v2/models/{name}[/versions/{version}]/infer with a JSON body or in the binary tensor extension,
from an HTTP API (payload 2.0) or a Function URL.

Why: FastAPI, Starlette and Mangum are most of the API function's cold start and of each request's time (see
docs/performance.md for the figures). The thin path imports none of them; the app is built on the first request it
does not serve (at INIT under provisioned concurrency, which pays INIT before traffic).

It holds no second implementation. It reads the event as Mangum does (handler.http_events' stage rule included)
and frames the answer as Mangum frames one, and nothing else: the body is validated by the same pydantic models
(handler.request_bodies), read (handler.infer_bodies for the binary extension), decoded, run, checked and encoded by
the same data plane (handler.dataplane), rendered and gzipped by the same functions (handler.answers) as the FastAPI
routes use; an error raised on the way gets the same status and body. Every request it does not take as it is goes
to the app untouched, so its answer, error or not, is the app's: another route or method, a query string, a body
not declared JSON (images, a form) nor in the binary extension, a compressed body, one over the size limit, an empty
one, one that does not parse or does not validate (raised as Fallback before anything has run), models not ready
yet, a Host or X-Forwarded-Port Mangum would refuse. tests/functional/test_thin_path.py
proves the answers identical (status, headers, body) with the thin path on and off, for every file in events/,
the hostile and fuzz batteries and every route. THIN_PATH=false sends every request through the app.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, NamedTuple, TypeVar

import pydantic_core
from pydantic import ValidationError

from handler.answers import (
    ANSWER_GZIP_BYTES,
    INTERNAL_ERROR,
    JSON,
    error_bytes,
    gzip_bytes,
    json_bytes,
    oversized,
    oversized_error,
    status_of,
)
from handler.binary_tensors import HEADER
from handler.contract import LambdaHandler
from handler.dataplane import DataPlane
from handler.errors import RequestError
from handler.infer_bodies import binary_inferred, rendered
from handler.observability import logger
from handler.request_bodies import BinaryInferenceRequest, InferenceRequest, PredictRequest

INFER_PATH = re.compile(r"/v2/models/([^/]+)(?:/versions/([^/]+))?/infer")
# Mangum's text types: an answer of one of these is sent as text, anything else in base64.
TEXT_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/vnd.api+json",
    "application/vnd.oai.openapi",
)

Answer = tuple[int, list[tuple[str, str]], bytes]
Body = TypeVar("Body", PredictRequest, InferenceRequest, BinaryInferenceRequest)


class Request(NamedTuple):
    """What the hot routes read of a payload-2.0 event, as Mangum's HTTPGateway reads it."""

    headers: dict[str, str]
    path: str
    body: bytes


def _route_path(event: Mapping[str, Any]) -> str | None:
    """requestContext.http.path, less a named stage's prefix (handler.http_events.StagedHttpApi), for a POST."""
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, Mapping) else None
    if not isinstance(http, Mapping) or http.get("method") != "POST" or not isinstance(http.get("path"), str):
        return None
    path: str = http["path"]
    stage = str(context.get("stage") or "$default") if isinstance(context, Mapping) else "$default"
    if stage != "$default" and path.startswith(f"/{stage}/"):
        return path[len(stage) + 1 :]
    return path


def _plain_port(headers: Mapping[str, str]) -> bool:
    """A Host and X-Forwarded-Port Mangum reads without refusing (handler.http_events.unreadable_event)."""
    host = headers.get("host", "")
    port = host.split(":", 1)[1] if host.count(":") == 1 else headers.get("x-forwarded-port", "80")
    return host.count(":") <= 1 and port.isascii() and port.isdigit()


def _json_media(headers: Mapping[str, str]) -> bool:
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _plain_headers(path: str, headers: Mapping[str, str], max_body_bytes: int) -> bool:
    """Headers under which the app reads the body as it is: declared JSON or (to an infer route) the binary
    extension, not compressed, not declared over the limit, and a Host Mangum reads."""
    declared = headers.get("content-length", "")
    if (declared.isdigit() and int(declared) > max_body_bytes) or "content-encoding" in headers:
        return False
    binary = HEADER in headers and path != "/predict"
    return (binary or (HEADER not in headers and _json_media(headers))) and _plain_port(headers)


def taken(event: Mapping[str, Any], max_body_bytes: int) -> Request | None:
    """The request when the thin path serves it as it is, else None (the app serves it)."""
    if event.get("version") != "2.0" or event.get("rawQueryString") or event.get("cookies"):
        return None
    path = _route_path(event)
    if path is None or (path != "/predict" and not INFER_PATH.fullmatch(path)):
        return None
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    if not _plain_headers(path, headers, max_body_bytes):
        return None
    body = event.get("body") or ""
    try:
        data = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    except (binascii.Error, ValueError):
        return None
    if not data or len(data) > max_body_bytes:
        return None
    return Request(headers, path, data)


class Fallback(Exception):
    """Raised before anything has run, for a request the app answers (a body that does not parse or validate)."""


def _valid(model: type[Body], data: Any) -> Body:
    """``data`` validated by the route's model; Fallback where it is not valid (the app words the 422)."""
    if not isinstance(data, dict):
        raise Fallback
    try:
        return model.model_validate(data)
    except ValidationError:
        raise Fallback from None


def _parsed(body: bytes) -> Any:
    """The body as FastJsonRequest parses it; Fallback where it does not parse (the app words the 400)."""
    try:
        return pydantic_core.from_json(body)
    except ValueError:
        raise Fallback from None


class ThinPath:
    """The API function's HTTP handler: the hot routes served here, everything else by ``app()``."""

    def __init__(self, plane: DataPlane, max_body_bytes: int, app: Callable[[], LambdaHandler]) -> None:
        self.plane, self.max_body_bytes, self.app = plane, max_body_bytes, app

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        request = taken(event, self.max_body_bytes) if self.plane.repository is not None else None
        answer = self._answered(request) if request is not None else None
        if answer is None:
            return self.app()(event, context)
        framed = frame(*answer)
        size = oversized(framed)
        if size is None:
            return framed
        return frame(413, [("content-type", JSON)], json.dumps(oversized_error(size)).encode(), sized=False)

    def _answered(self, request: Request) -> Answer | None:
        """The answer, an error answered as the app's handlers answer it (handler.api.errors), or None where the app
        is to answer."""
        try:
            return self._routed(request)
        except Fallback:
            return None
        except RequestError as exc:
            return status_of(exc), [("content-type", JSON)], error_bytes(exc.message)
        except Exception:
            logger.exception("unhandled error", extra={"path": request.path, "method": "POST"})
            return 500, [("content-type", JSON)], error_bytes(INTERNAL_ERROR)

    def _routed(self, request: Request) -> Answer:
        if request.path == "/predict":
            predict = _valid(PredictRequest, _parsed(request.body))
            return json_answer(self.plane.predict(predict), request.headers)
        name, version = INFER_PATH.fullmatch(request.path).groups()  # type: ignore[union-attr]  # see taken()
        declared = request.headers.get(HEADER)
        if declared is not None:
            binary = binary_inferred(
                self.plane, name, version, request.body, declared, validate=partial(_valid, BinaryInferenceRequest)
            )
            return gzipped(200, *rendered(*binary), request.headers)
        infer = _valid(InferenceRequest, _parsed(request.body))
        inferred = self.plane.infer_json(self.plane.find(name, version), infer)
        return gzipped(200, *rendered(infer, inferred), request.headers)


def json_answer(content: Any, headers: Mapping[str, str]) -> Answer:
    return gzipped(200, json_bytes(content), [("content-type", JSON)], headers)


def gzipped(status: int, body: bytes, fields: list[tuple[str, str]], headers: Mapping[str, str]) -> Answer:
    """The answer as the app's GZipMiddleware leaves it: from ANSWER_GZIP_BYTES on, marked as varying with
    Accept-Encoding, and gzipped for a client whose Accept-Encoding names gzip."""
    if len(body) < ANSWER_GZIP_BYTES:
        return status, fields, body
    fields = [*fields, ("vary", "Accept-Encoding")]
    if "gzip" in headers.get("accept-encoding", ""):
        return status, [*fields, ("content-encoding", "gzip")], gzip_bytes(body)
    return status, fields, body


def frame(status: int, fields: list[tuple[str, str]], body: bytes, *, sized: bool = True) -> dict[str, Any]:
    """The payload-2.0 response Mangum's HTTPGateway makes of a response with these headers and body, with the
    content-length Starlette's Response adds (``sized``)."""
    headers = {"content-length": str(len(body))} if sized else {}
    headers |= dict(fields)
    if any(kind in headers["content-type"] for kind in TEXT_TYPES):
        try:
            return {"statusCode": status, "body": body.decode(), "headers": headers, "isBase64Encoded": False}
        except UnicodeDecodeError:
            pass
    return {"statusCode": status, "body": base64.b64encode(body).decode(), "headers": headers, "isBase64Encoded": True}
