"""JSON in and out with pydantic-core's parser and serializer instead of the standard library's, and bodies read as
JSON whatever content-type they declare (``as_json``).

Parsing is most of the cost of a large request: for 256 digits (16,384 numbers) ``json.loads`` took
3.7 ms and ``pydantic_core.from_json`` 0.9 ms. Both give the same Python values for any valid JSON
(NaN and Infinity included), so only the speed changes. When pydantic-core refuses a body, it is parsed
again by ``json.loads``, so a bad body fails exactly as it always did (same message, position and
status from FastAPI); that costs nothing on the success path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

import pydantic_core
from fastapi import Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.types import Scope

from handler.answers import json_bytes


class FastJsonRequest(Request):
    """A Request whose ``json()`` (what FastAPI calls to read a JSON body) uses pydantic-core."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = pydantic_core.from_json(body)
            except ValueError:
                self._json = json.loads(body)  # raises the standard library's error, as FastAPI expects
        return self._json


class FastJsonRoute(APIRoute):
    """A route whose handler sees a FastJsonRequest; everything else is FastAPI's own."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def fast(request: Request) -> Response:
            return await handler(FastJsonRequest(as_json(request.scope), request.receive))

        return fast


DECLARED = "onnx_lambda.declared_type"  # the scope key holding a body's own content-type when it is read as JSON


def as_json(scope: Scope) -> Scope:
    """The scope with its body declared JSON, whatever the client said: `curl -d` sends
    application/x-www-form-urlencoded, other clients text/plain, and Triton and KServe read such bodies as JSON
    too. The declared type is kept under DECLARED, for the error a body that is not JSON gets."""
    headers = scope.get("headers", [])
    declared = next((value for name, value in headers if name == b"content-type"), b"")
    media = declared.split(b";", 1)[0].strip().lower()
    if not media or media == b"application/json" or media.endswith(b"+json"):
        return scope
    kept = [(name, value) for name, value in headers if name != b"content-type"]
    # In place: the exception handlers read the same scope, and say what the body was sent as.
    scope["headers"], scope[DECLARED] = [*kept, (b"content-type", b"application/json")], declared.decode("latin-1")
    return scope


class FastJsonResponse(JSONResponse):
    """JSONResponse rendered by pydantic-core (compact UTF-8, like Starlette's; several times faster for
    thousands of floats). Only ever given finite numbers: the routes refuse NaN outputs first.

    /predict and the infer routes return one rather than hand FastAPI their dict to validate against the route's
    response_model and serialise (its own dump_json, fields set only: the same bytes). That would cost /predict
    25-38 µs more per request with one digit (+4%) and 0.8-1.0 ms with 256 (+10-12%), /v2/models/{m}/infer 26-42 µs
    with one (+4%) and 8-141 µs with 256 (+0.1-2%): CPU time per invocation through the entry point, paired blocks
    in 3-5 fresh processes, three runs (bench/dependency_costs.py responses). What that validation would check,
    tests/functional/test_declared_responses.py checks instead: every JSON answer of every route, successes and
    errors, is exactly the model the route declares for its status."""

    def render(self, content: Any) -> bytes:
        return json_bytes(content)
