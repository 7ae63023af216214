"""One Lambda instance inside a long-lived process, for the servers that put the function behind a socket (the
container host's HTTP server, handler.http_host, and the local gateway): the one entry point, called on one worker
thread with its own event loop, one event at a time, with the context object Lambda would pass.

Why one event at a time: that is what a Lambda instance does, so the function is served as it is tested; a
container host gets its parallelism from more instances (the HTTP server's workers), as Lambda does.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import sys
import time
import traceback
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from handler.answers import LAMBDA_RESPONSE_BYTES, oversized

# API Gateway's own answer when the invocation fails or returns what Lambda refuses; the client learns no more.
GATEWAY_ERROR = (500, {"content-type": "application/json"}, b'{"message": "Internal Server Error"}')


def _timeout_s() -> float:
    configured = os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "")
    return float(configured) if configured.isdigit() else 30.0


@dataclass
class LocalContext:
    """The attributes of Lambda's context object that the handler and Powertools read."""

    timeout_s: float = field(default_factory=_timeout_s)
    function_name: str = field(default_factory=lambda: os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "onnx-lambda-local"))
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 2048
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/onnx-lambda-local"
    log_stream_name: str = "local"
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        """A well-formed ARN for a function that is not deployed anywhere."""
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before this invocation's timeout."""
        return max(0, int((self.timeout_s - (time.monotonic() - self.started)) * 1000))


@dataclass(frozen=True)
class GatewayAnswer:
    """What the client gets for an HTTP event's response: status, headers, body bytes, cookies."""

    status: int
    headers: dict[str, str]
    body: bytes
    cookies: list[str] = field(default_factory=list)


class LambdaInstance:
    """One warm Lambda instance: a single worker thread with its own event loop, one event at a time."""

    def __init__(self) -> None:
        # Imported here, not at the top: importing the entry point is INIT (loads and warms up the model).
        from handler.entrypoint import lambda_handler  # noqa: PLC0415

        self._handler = lambda_handler
        self._worker = ThreadPoolExecutor(max_workers=1, initializer=self._own_loop)

    @staticmethod
    def _own_loop() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())

    def _submit(self, event: dict[str, Any]) -> Future[dict[str, Any]]:
        return self._worker.submit(self._handler, event, LocalContext())

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """Run the handler on the worker thread and return its response; raises what the handler raises."""
        return self._submit(event).result()

    def answer(self, event: dict[str, Any]) -> GatewayAnswer:
        """The HTTP answer to an HTTP event, as API Gateway gives it, waiting on this thread."""
        return _answered(self._submit(event))

    async def answer_async(self, event: dict[str, Any]) -> GatewayAnswer:
        """The same, awaited from a server's event loop while it goes on serving its connections."""
        future = self._submit(event)
        with contextlib.suppress(Exception):  # read, with the rest of the outcome, by _answered
            await asyncio.wrap_future(future)
        return _answered(future)


def _answered(future: Future[dict[str, Any]]) -> GatewayAnswer:
    """An invocation error is logged with its trace, as Lambda's runtime logs it, and answered API Gateway's 500."""
    try:
        response = future.result()
    except Exception:
        traceback.print_exc()
        return GatewayAnswer(*GATEWAY_ERROR)
    return gateway_answer(response)


def gateway_answer(response: dict[str, Any]) -> GatewayAnswer:
    """An HTTP event's response as the client receives it (a base64 body decoded); an answer Lambda would refuse
    to return (over LAMBDA_RESPONSE_BYTES) is API Gateway's 500."""
    if oversized(response) is not None:
        print(f"Response payload size exceeded: over {LAMBDA_RESPONSE_BYTES} bytes", file=sys.stderr)
        return GatewayAnswer(*GATEWAY_ERROR)
    payload = response.get("body", "") or ""
    data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode("utf-8")
    headers = {str(key): str(value) for key, value in (response.get("headers") or {}).items()}
    return GatewayAnswer(int(response.get("statusCode", 200)), headers, data, list(response.get("cookies") or []))
