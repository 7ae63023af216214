"""Mangum's API Gateway handlers, taught where the stage lives so /docs and links work under /prod.

Mangum hands FastAPI an empty ``root_path``. Behind a REST API the client's URL is
``/prod/health`` while the event's ``path`` is ``/health``; behind an HTTP API with a named stage the
event's ``rawPath`` keeps ``/prod``. Both subclasses set ``root_path`` to the part of the client's URL
that is not the route, as the ASGI spec asks, so FastAPI's /docs loads ``/prod/openapi.json``.
"""

from __future__ import annotations

from mangum.handlers import APIGateway, HTTPGateway
from mangum.types import Scope


def _with_root(scope: Scope, root_path: str) -> Scope:
    if root_path and root_path != "/":
        root_path = root_path.rstrip("/")
        scope["root_path"] = root_path
        if not scope["path"].startswith(root_path + "/") and scope["path"] != root_path:
            scope["path"] = root_path + scope["path"]
    return scope


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
