"""Plain HTTP from the Lambda image, for container hosts (docker run, compose, ECS, App Runner, a VM):

    docker run -p 8080:8080 --entrypoint python IMAGE -m handler.http_host

uvicorn serves an ASGI app that turns each request into the HTTP API event API Gateway would send and hands it
to the one entry point (handler.entrypoint.lambda_handler), so the routes, errors, limits and logs are the
function's own: there is no second implementation of anything. The image's Lambda entry point and command are
untouched; this mode only overrides the entry point, as a container host's task definition does.

Each uvicorn worker is one Lambda instance (handler.lambda_instance: one event at a time), INIT (load and warm
up) in the lifespan startup, so a worker takes connections only once its model answers; a model that cannot
load stops the server with INIT's error and status 3. Workers default to the CPUs this container may use
(WEB_CONCURRENCY overrides), and each gets an equal share of them as onnxruntime threads unless
ORT_INTRA_OP_THREADS says otherwise. SIGTERM stops taking connections, lets requests in flight finish (up to
--graceful-seconds) and exits: what ECS and compose send before SIGKILL.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from handler.http_events import http_api_event
from handler.lambda_instance import LambdaInstance

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

API_GATEWAY_MAX_BODY = 10 * 1024 * 1024  # HTTP API refuses larger payloads before Lambda sees them
TOO_LARGE = b'{"error": "request body over 10 MB: API Gateway refuses larger payloads before the function sees them"}'
# Longer than a load balancer's idle timeout (ALB: 60 s), so the balancer, not this server, closes idle
# connections: the other way round, a request sent as the server closes fails with a 502.
KEEP_ALIVE_S = 75
STARTUP_FAILURE = 3  # uvicorn's own status for a server that never started
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


class HttpHost:
    """The ASGI app: lifespan startup is INIT; every HTTP request is one HTTP API event for the entry point."""

    def __init__(self) -> None:
        self.instance: LambdaInstance | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while (await receive())["type"] != "lifespan.shutdown":  # startup first, then shutdown
            try:
                self.instance = LambdaInstance()
            except BaseException as error:  # INIT failed: the entry point has logged why
                await send({"type": "lifespan.startup.failed", "message": f"INIT failed: {error}"})
                return
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _body(receive, API_GATEWAY_MAX_BODY)
        if body is None:
            await _reply(send, 413, {"content-type": "application/json", "connection": "close"}, TOO_LARGE, [])
            return
        assert self.instance is not None, "lifespan startup runs before any request"
        event = http_api_event(
            scope["method"],
            target=_target(scope),
            headers=_headers(scope),
            body=body,
            stage="$default",
            source_ip=(scope.get("client") or ("127.0.0.1", 0))[0],
        )
        answer = await self.instance.answer_async(event)
        await _reply(send, answer.status, answer.headers, answer.body, answer.cookies)


def _target(scope: Scope) -> str:
    path: str = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
    query: bytes = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers as an HTTP API event carries them: names in lower case, repeated ones joined by
    commas (cookies by semicolons, as the event's ``cookies`` would rejoin them)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        joiner = "; " if name == "cookie" else ","
        headers[name] = f"{headers[name]}{joiner}{value}" if name in headers else value
    return headers


async def _body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _reply(send: Send, status: int, headers: dict[str, str], body: bytes, cookies: list[str]) -> None:
    skipped = {"content-length", "connection", "transfer-encoding"}
    pairs = [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items() if k.lower() not in skipped]
    pairs += [(b"set-cookie", cookie.encode("latin-1")) for cookie in cookies]
    pairs.append((b"content-length", str(len(body)).encode()))
    if headers.get("connection") == "close":
        pairs.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": pairs})
    await send({"type": "http.response.body", "body": body})


app = HttpHost()


def usable_cpus() -> int:
    """The CPUs this process may use: its affinity, capped by a cgroup v2 CPU quota (docker --cpus, ECS task CPU)."""
    cpus = len(os.sched_getaffinity(0))
    try:
        quota, period = CGROUP_CPU_MAX.read_text().split()
    except (OSError, ValueError):
        return cpus
    return cpus if quota == "max" else max(1, min(cpus, math.ceil(int(quota) / int(period))))


def main(argv: list[str] | None = None) -> None:
    """Serve until SIGTERM or Ctrl-C."""
    import uvicorn  # noqa: PLC0415 - only this mode needs it; an image built with HTTP_HOST=false lacks it

    parser = argparse.ArgumentParser(prog="python -m handler.http_host", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")), help="default $PORT or 8080")
    workers = int(os.environ.get("WEB_CONCURRENCY", "0")) or usable_cpus()
    parser.add_argument("--workers", type=int, default=workers, help="default $WEB_CONCURRENCY or the usable CPUs")
    parser.add_argument("--graceful-seconds", type=int, default=30, help="time requests in flight get on SIGTERM")
    args = parser.parse_args(argv)
    os.environ.setdefault("ORT_INTRA_OP_THREADS", str(max(1, usable_cpus() // max(1, args.workers))))
    print(f"onnx-lambda HTTP host: {args.workers} worker(s) on http://{args.host}:{args.port}", flush=True)
    config = uvicorn.Config(
        "handler.http_host:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        lifespan="on",
        timeout_keep_alive=KEEP_ALIVE_S,
        timeout_graceful_shutdown=args.graceful_seconds,
        access_log=False,  # the function's own JSON logs are the log, as on Lambda (which has no access log)
        server_header=False,
    )
    sys.exit(STARTUP_FAILURE if _served_and_failed(config) else 0)


def _served_and_failed(config: Any) -> bool:
    """Serve with uvicorn until stopped; True when INIT failed. uvicorn.run itself exits 0 when a worker's startup
    fails under its supervisor, and dies of the SIGTERM it re-raises after a graceful stop of a single worker:
    container hosts read the exit status, so both are set right here (3 for INIT, 0 for a requested stop)."""
    import uvicorn  # noqa: PLC0415
    from uvicorn.supervisors import Multiprocess  # noqa: PLC0415

    if config.workers > 1:
        supervisor = Multiprocess(config, sockets=[config.bind_socket()])
        supervisor.run()
        return any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes)
    signal.signal(signal.SIGTERM, _stopped)  # what uvicorn restores, then re-raises into, after its graceful stop
    server = uvicorn.Server(config)
    server.run()
    return not server.started


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    main()
