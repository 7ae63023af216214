"""The hot routes answered straight from the HTTP API event, without Mangum, FastAPI or asyncio: POST /predict and
POST /v2/models/{name}[/versions/{version}]/infer with a JSON body, from an HTTP API (payload 2.0) or Function URL.

Why: FastAPI, Starlette and Mangum are most of the API function's cold start and of each request's time (see
docs/performance.md for the figures). The thin path imports none of them; the app is built on the first request it
does not serve (at INIT under provisioned concurrency, which pays INIT before traffic).

It holds no second implementation. It reads the event as Mangum does (handler.http_events' stage rule included)
and frames the answer as Mangum frames one, and nothing else: the body is validated by the same pydantic models
(handler.request_bodies), decoded, run, checked and encoded by the same data plane (handler.dataplane), rendered
and gzipped by the same functions (handler.answers) as the FastAPI routes use; an error the data plane raises
gets the same status and body. Every request it does not take as it is goes to the app untouched, so its answer,
error or not, is the app's: another route or method, a query string, a body not declared JSON (images, the binary
extension, a form), a compressed body, one over the size limit, an empty one, one that does not parse or does not
validate, models not ready yet, a Host or X-Forwarded-Port Mangum would refuse. tests/functional/test_thin_path.py
proves the answers identical (status, headers, body) with the thin path on and off, for every file in events/,
the hostile and fuzz batteries and every route. THIN_PATH=false sends every request through the app.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

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
from handler.binary_tensors import HEADER, HEADER_NAME, OCTET_STREAM, binary_outputs, encode_response
from handler.contract import LambdaHandler
from handler.dataplane import DataPlane, Inferred
from handler.errors import RequestError
from handler.observability import logger
from handler.request_bodies import InferenceRequest, PredictRequest

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


def _plain_headers(headers: Mapping[str, str], max_body_bytes: int) -> bool:
    """Headers under which the app reads the body as the JSON it is: declared JSON, not compressed, not the
    binary extension, not declared over the limit, and a Host Mangum reads."""
    declared = headers.get("content-length", "")
    if (declared.isdigit() and int(declared) > max_body_bytes) or HEADER in headers or "content-encoding" in headers:
        return False
    return _json_media(headers) and _plain_port(headers)


def taken(event: Mapping[str, Any], max_body_bytes: int) -> Request | None:
    """The request when the thin path serves it as it is, else None (the app serves it)."""
    if event.get("version") != "2.0" or event.get("rawQueryString") or event.get("cookies"):
        return None
    path = _route_path(event)
    if path is None or (path != "/predict" and not INFER_PATH.fullmatch(path)):
        return None
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    if not _plain_headers(headers, max_body_bytes):
        return None
    body = event.get("body") or ""
    try:
        data = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    except (binascii.Error, ValueError):
        return None
    if not data or len(data) > max_body_bytes:
        return None
    return Request(headers, path, data)


def _parsed(body: bytes) -> Any:
    """The body as FastJsonRequest parses it, or None where it would not parse there either."""
    try:
        return pydantic_core.from_json(body)
    except ValueError:
        return None


class ThinPath:
    """The API function's HTTP handler: the hot routes served here, everything else by ``app()``."""

    def __init__(self, plane: DataPlane, max_body_bytes: int, app: Callable[[], LambdaHandler]) -> None:
        self.plane, self.max_body_bytes, self.app = plane, max_body_bytes, app

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        request = taken(event, self.max_body_bytes) if self.plane.repository is not None else None
        run = self._validated(request) if request is not None else None
        if request is None or run is None:
            return self.app()(event, context)
        answer = frame(*self._answered(request, run))
        size = oversized(answer)
        if size is None:
            return answer
        return frame(413, [("content-type", JSON)], json.dumps(oversized_error(size)).encode(), sized=False)

    def _validated(self, request: Request) -> Callable[[], Answer] | None:
        """What answers the request once its body has parsed and validated, or None (the app answers it)."""
        parsed = _parsed(request.body)
        if not isinstance(parsed, dict):
            return None
        try:
            if request.path == "/predict":
                predict = PredictRequest.model_validate(parsed)
                return lambda: json_answer(self.plane.predict(predict), request.headers)
            name, version = INFER_PATH.fullmatch(request.path).groups()  # type: ignore[union-attr]  # taken()
            infer = InferenceRequest.model_validate(parsed)
        except ValidationError:
            return None
        return lambda: infer_answer(
            infer, self.plane.infer_json(self.plane.find(name, version), infer), request.headers
        )

    def _answered(self, request: Request, run: Callable[[], Answer]) -> Answer:
        """``run``'s answer; an error as the app's handlers answer it (handler.api.errors)."""
        try:
            return run()
        except RequestError as exc:
            return status_of(exc), [("content-type", JSON)], error_bytes(exc.message)
        except Exception:
            logger.exception("unhandled error", extra={"path": request.path, "method": "POST"})
            return 500, [("content-type", JSON)], error_bytes(INTERNAL_ERROR)


def infer_answer(request: InferenceRequest, inferred: Inferred, headers: Mapping[str, str]) -> Answer:
    """As handler.api.routes_v2's ``_answer``: the outputs asked for as binary_data in the extension's bytes, else
    JSON."""
    as_bytes = binary_outputs(request.parameters, request.outputs, inferred.results)
    if not as_bytes:
        return json_answer(inferred.json_body(), headers)
    body, length = encode_response(inferred.head(), inferred.results, as_bytes)
    return gzipped(200, [(HEADER_NAME.lower(), str(length)), ("content-type", OCTET_STREAM)], body, headers)


def json_answer(content: Any, headers: Mapping[str, str]) -> Answer:
    return gzipped(200, [("content-type", JSON)], json_bytes(content), headers)


def gzipped(status: int, fields: list[tuple[str, str]], body: bytes, headers: Mapping[str, str]) -> Answer:
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
