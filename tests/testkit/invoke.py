"""Serve a model in-process through the same runtime the entry point builds, and call it with events."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from handler.dataplane import DataPlane
from handler.http_events import http_api_event
from handler.lambda_instance import LocalContext
from handler.runtime import Runtime, build_runtime, http_adapter
from handler.settings import Settings, settings_from_env
from tests.testkit.events import response_json

Call = Callable[..., tuple[int, Any]]


def runtime_for(model_path: Path, **env: str) -> Runtime:
    """The runtime for ``model_path`` with extra settings given as environment variables."""
    return build_runtime(settings_from_env({"MODEL_PATH": str(model_path), **env}))


def unready_adapter() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """An adapter whose model never loaded: every model route must answer 503."""
    return http_adapter(DataPlane(), Settings())


def caller(adapter: Callable[[dict[str, Any], Any], dict[str, Any]]) -> Call:
    """call(method, path, body=None, raw=None, content_type=...) -> (status, JSON body), via an HTTP API v2 event."""

    def call(
        method: str, path: str, body: Any = None, raw: bytes | None = None, content_type: str = "application/json"
    ) -> tuple[int, Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        headers = {"host": "test", **({"content-type": content_type} if content_type else {})}
        event = http_api_event(method, target=path, headers=headers, body=data, stage="$default", source_ip="1.1.1.1")
        response = adapter(event, LocalContext())
        return response["statusCode"], response_json(response)

    return call
