"""A fake AWS Lambda Runtime API (version 2018-06-01), for awslambdaric to run against as the image runs it.

Why: the image's real entry is ``python -m awslambdaric handler.entrypoint.lambda_handler``. The in-process
tests call ``lambda_handler`` directly, so they never see what the runtime interface client does with a
return value, an exception or a failed INIT. The real Runtime Interface Emulator is not installable here
(no Docker, no RIE binary; see AWS_TOOLING.md section 7), so this loopback server stands in for it. It
serves queued events on ``/next`` with the headers Lambda sends, records every response, invocation
error and INIT error the client posts (body and headers), and answers 202 as the real API does.
testkit.runtime_client starts the client against it.
"""

from __future__ import annotations

import functools
import json
import queue
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API = "/2018-06-01/runtime"
FUNCTION_NAME = "onnx-lambda"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION_NAME}"
POST_PATH = re.compile(rf"^{API}/(?:invocation/(?P<id>[^/]+)/(?P<kind>response|error)|(?P<init>init/error))$")


def new_trace_id() -> str:
    """An X-Ray trace header in the format Lambda sends: Root=1-<epoch hex>-<96 bits>;Parent=...;Sampled=1."""
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=1"


@dataclass(frozen=True)
class Invocation:
    """One queued event and the ids Lambda would send with it."""

    event: Any
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    trace_id: str = field(default_factory=new_trace_id)
    timeout_s: float = 30.0

    @property
    def trace_root(self) -> str:
        """The Root=... part, which is what Powertools logs as xray_trace_id."""
        return self.trace_id.split(";")[0].removeprefix("Root=")

    @property
    def trace_parent(self) -> str:
        """The Parent=... part: the id of Lambda's segment, which the handler's subsegments hang under."""
        return self.trace_id.split(";")[1].removeprefix("Parent=")


@dataclass(frozen=True)
class Post:
    """One POST the client made: kind is response, error or init-error."""

    kind: str
    request_id: str | None
    headers: dict[str, str]
    body: Any


class _RuntimeApiHandler(BaseHTTPRequestHandler):
    """The three endpoints a runtime uses; HTTP/1.1 so curl's `Expect: 100-continue` is answered."""

    protocol_version = "HTTP/1.1"
    server: _RuntimeApiServer

    def do_GET(self) -> None:
        """/next: the next queued event with Lambda's headers; blocks while none is queued, as Lambda does."""
        if self.path != f"{API}/invocation/next":
            self._reply(404, {"errorType": "NotFound", "errorMessage": self.path})
            return
        invocation = self.server.api.take_next()
        if invocation is None:  # the test is stopping; the client has been killed
            self.close_connection = True
            return
        deadline_ms = int((time.time() + invocation.timeout_s) * 1000)
        headers = {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
            "Lambda-Runtime-Trace-Id": invocation.trace_id,
        }
        self._reply(200, invocation.event, headers)

    def do_POST(self) -> None:
        """A response, an invocation error or an INIT error: recorded whole, answered 202 as the real API does."""
        match = POST_PATH.match(self.path)
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        if match is None:
            self._reply(404, {"errorType": "NotFound", "errorMessage": self.path})
            return
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        kind = "init-error" if match["init"] else match["kind"]
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.api.record(Post(kind, match["id"], headers, body))
        self._reply(202, {"status": "OK"})

    def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        """A JSON reply with a Content-Length, so the client's keep-alive connection stays usable."""
        data = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows the client's own output when a test fails."""


class _RuntimeApiServer(ThreadingHTTPServer):
    """One thread per connection: a /next blocked on an empty queue must not stop the POSTs."""

    daemon_threads = True

    def __init__(self, api: FakeRuntimeApi) -> None:
        super().__init__(("127.0.0.1", 0), _RuntimeApiHandler)
        self.api = api

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A killed client resets its keep-alive connection; that is the normal end, not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeRuntimeApi:
    """Queue events for the client, see what it served and posted; thread-safe, one per client process."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Invocation] = queue.Queue()
        self._stopping = threading.Event()
        self._changed = threading.Condition()
        self._posts: list[Post] = []
        self._served: list[Invocation] = []
        self._server = _RuntimeApiServer(self)
        # A short poll interval: shutdown() waits for it, once per test.
        serve = functools.partial(self._server.serve_forever, poll_interval=0.02)
        self._thread = threading.Thread(target=serve, name="fake-runtime-api", daemon=True)

    @property
    def address(self) -> str:
        """host:port, the value of AWS_LAMBDA_RUNTIME_API."""
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    @property
    def served(self) -> list[Invocation]:
        """Invocations handed out on /next so far, in order."""
        with self._changed:
            return list(self._served)

    @property
    def posts(self) -> list[Post]:
        """Everything the client posted so far, in arrival order."""
        with self._changed:
            return list(self._posts)

    def enqueue(self, event: Any, *, timeout_s: float = 30.0) -> Invocation:
        """Queue one event; it is served on a later /next, with a deadline of then + timeout_s."""
        invocation = Invocation(event, timeout_s=timeout_s)
        self._queue.put(invocation)
        return invocation

    def take_next(self) -> Invocation | None:
        """Block until an event is queued (as Lambda does between invocations) or the API stops."""
        while not self._stopping.is_set():
            try:
                invocation = self._queue.get(timeout=0.05)
            except queue.Empty:
                continue
            with self._changed:
                self._served.append(invocation)
            return invocation
        return None

    def record(self, post: Post) -> None:
        """Keep a post and wake whoever waits for it."""
        with self._changed:
            self._posts.append(post)
            self._changed.notify_all()

    def wait_for_posts(
        self, count: int, timeout_s: float = 60.0, alive: Callable[[], bool] | None = None
    ) -> list[Post]:
        """The first ``count`` posts; fails after timeout_s, or at once when ``alive()`` says the client died."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while len(self._posts) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (alive is not None and not alive()):
                    why = "timed out" if remaining <= 0 else "the client exited"
                    raise AssertionError(f"{why} after {len(self._posts)} of {count} posts: {self._posts!r}")
                self._changed.wait(min(remaining, 0.2))
            return self._posts[:count]

    def post_for(self, request_id: str) -> Post:
        """The one response or error posted for an invocation."""
        found = [post for post in self.posts if post.request_id == request_id]
        assert len(found) == 1, f"{len(found)} posts for {request_id}: {found!r}"
        return found[0]

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Release a blocked /next, stop serving and close the socket."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@contextmanager
def runtime_api() -> Iterator[FakeRuntimeApi]:
    """A started fake Runtime API on a free loopback port, stopped when the block ends."""
    api = FakeRuntimeApi()
    api.start()
    try:
        yield api
    finally:
        api.stop()
