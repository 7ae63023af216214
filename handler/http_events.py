"""API Gateway events: Mangum's handlers taught where the stage lives, and the HTTP API event we synthesise.

The local gateway and the SQS inference jobs build HTTP API payload-2.0 events with ``http_api_event``,
so both go through exactly the app a deployed API serves.

Mangum hands FastAPI an empty ``root_path``. Behind a REST API the client's URL is
``/prod/health`` while the event's ``path`` is ``/health``; behind an HTTP API with a named stage the
event's ``rawPath`` keeps ``/prod``. Both subclasses set ``root_path`` to the part of the client's URL
that is not the route, as the ASGI spec asks, so FastAPI's /docs loads ``/prod/openapi.json``.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from mangum import Mangum
from mangum.handlers import APIGateway, HTTPGateway
from mangum.handlers.utils import get_server_and_port
from mangum.types import Response, Scope

from handler.answers import oversized, oversized_error

TEXT_TYPES = ("text/", "application/json", "application/x-www-form-urlencoded", "application/xml")


def _with_root(scope: Scope, root_path: str) -> Scope:
    if root_path and root_path != "/":
        root_path = root_path.rstrip("/")
        scope["root_path"] = root_path
        if not scope["path"].startswith(root_path + "/") and scope["path"] != root_path:
            scope["path"] = root_path + scope["path"]
    return scope


# The headers Mangum parses into the ASGI scope's server (host, port): left out of a refusal's copy of the event.
UNREAD = frozenset({"host", "x-forwarded-port"})


class StagedRestApi(APIGateway):
    """REST API (payload v1): the stage prefix is requestContext.path minus the resource path."""

    @property
    def scope(self) -> Scope:
        scope = super().scope
        outer = str(self.event.get("requestContext", {}).get("path") or "")
        inner = str(self.event.get("path") or "")
        prefix = outer[: -len(inner)] if inner and outer.endswith(inner) else ""
        return _with_root(scope, prefix)


class StagedHttpApi(HTTPGateway):
    """HTTP API (payload 2.0) and Function URLs: a named stage (not $default) prefixes rawPath."""

    @property
    def scope(self) -> Scope:
        scope = super().scope
        stage = str(self.event.get("requestContext", {}).get("stage") or "$default")
        path = scope["path"]
        if stage != "$default" and (path.startswith(f"/{stage}/") or path == f"/{stage}"):
            return _with_root(scope, f"/{stage}")
        return scope


class EventAdapter:
    """Mangum, plus JSON answers for what would otherwise fail the invocation (API Gateway or the load balancer
    would then answer 5xx, telling the client nothing): a 400 for the two requests Mangum cannot read, a body
    flagged isBase64Encoded that is not base64 and a Host header that is not host[:port] (a load balancer passes
    the client's on); and a 413 for an answer larger than Lambda can return (LAMBDA_RESPONSE_BYTES)."""

    def __init__(self, mangum: Mangum) -> None:
        self.mangum = mangum

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Mangum's response; a 400 or 413 in the event's response format instead where it cannot be served."""
        try:
            answer: dict[str, Any] = self.mangum(event, context)
        except ValueError:  # the app answers its own errors (handler.api.errors.ErrorGuard): this is the event
            message = unreadable_event(event)
            if message is None:
                raise
            return self._refusal(event, context, 400, {"error": message})
        size = oversized(answer)
        if size is None:
            return answer
        return self._refusal(event, context, 413, oversized_error(size))

    def _refusal(self, event: dict[str, Any], context: Any, status: int, error: dict[str, Any]) -> dict[str, Any]:
        """``error`` as JSON, formatted by Mangum's handler for the event's kind, given a copy without the parts
        it could not read."""
        readable: dict[str, Any] = {**event, "body": "", "isBase64Encoded": False}
        for key in ("headers", "multiValueHeaders"):
            if isinstance(event.get(key), dict):
                readable[key] = {name: value for name, value in event[key].items() if name.lower() not in UNREAD}
        body = json.dumps(error).encode()
        refusal: Response = {"status": status, "headers": [[b"content-type", b"application/json"]], "body": body}
        answer: dict[str, Any] = self.mangum.infer(readable, context)(refusal)
        return answer


def unreadable_event(event: dict[str, Any]) -> str | None:
    """What Mangum cannot read in ``event``, said for the client, or None when it is neither the body nor the Host."""
    if event.get("isBase64Encoded"):
        try:
            base64.b64decode(event.get("body") or "")
        except ValueError:
            return "the event's body is flagged isBase64Encoded but is not valid base64: expected the body in base64"
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    for name, values in (event.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ", ".join(values) if isinstance(values, list) else ""
    try:
        get_server_and_port(headers)
    except ValueError:
        if ":" not in str(headers.get("host", "")):  # Mangum then reads the port from X-Forwarded-Port
            return (
                f"the X-Forwarded-Port header {str(headers.get('x-forwarded-port'))[:80]!r} cannot be read: "
                "expected a port number"
            )
        return (
            f"the Host header {str(headers.get('host'))[:80]!r} cannot be read: expected a host name or IPv4 "
            "address, optionally followed by ':' and a port number"
        )
    return None


def http_api_event(
    method: str, *, target: str, headers: dict[str, str], body: bytes, stage: str, source_ip: str
) -> dict[str, Any]:
    """The HTTP API payload-2.0 event API Gateway would send for this request."""
    url = urlsplit(target)
    raw_path = url.path  # the client's URL; behind a named stage it starts with /{stage}, as in API Gateway
    content_type = headers.get("content-type", "")
    is_text = content_type.startswith(TEXT_TYPES) or not body
    try:
        text = body.decode("utf-8") if is_text else None
    except UnicodeDecodeError:
        text = None
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": url.query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": text is None,
    }
    if body:
        event["body"] = text if text is not None else base64.b64encode(body).decode("ascii")
    return event
