"""HTTP calls to the real local gateway, started by onnx_lambda.gateway_process on a free loopback port."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from onnx_lambda.gateway_process import GatewayProcess, spawn_gateway


@dataclass(frozen=True)
class Reply:
    """An HTTP response as the tests look at it."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class LocalServer:
    """A running gateway with request helpers."""

    gateway: GatewayProcess

    @property
    def url(self) -> str:
        """Base URL, with the stage path if any."""
        return self.gateway.url

    @property
    def output(self) -> list[str]:
        """Everything the server has printed."""
        return self.gateway.output

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        """One HTTP request; error statuses are returned, not raised."""
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Reply(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), error.read())

    def post_json(self, path: str, payload: Any) -> Reply:
        """POST a JSON document."""
        return self.request("POST", path, json.dumps(payload).encode(), {"content-type": "application/json"})


@contextmanager
def local_server(*args: str, env: dict[str, str] | None = None) -> Iterator[LocalServer]:
    """The gateway with ARGS and extra environment, stopped when the block ends."""
    with spawn_gateway(*args, env=env) as gateway:
        yield LocalServer(gateway)
