"""A fake AWS Lambda Runtime API (version 2018-06-01), and awslambdaric run against it as the image runs it.

Why: the image's real entry is ``python -m awslambdaric handler.entrypoint.lambda_handler``. The in-process
tests call ``lambda_handler`` directly, so they never see what the runtime interface client does with a
return value, an exception or a failed INIT. The real Runtime Interface Emulator is not installable here
(no Docker, no RIE binary; see AWS_TOOLING.md section 7), so this loopback server stands in for it. It
serves queued events on ``/next`` with the headers Lambda sends, records every response, invocation
error and INIT error the client posts (body and headers), and answers 202 as the real API does.
"""

from __future__ import annotations

import functools
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from testkit.paths import REPO
from testkit.process import block_imports, json_lines

API = "/2018-06-01/runtime"
ENTRY_HANDLER = "handler.entrypoint.lambda_handler"
FUNCTION_NAME = "onnx-lambda"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION_NAME}"
# What the Lambda image does without: export-time packages that must never be imported at run time.
IMAGE_LACKS = frozenset({"torch", "sklearn", "skl2onnx", "onnx", "joblib", "model_export"})
# Set by Lambda itself or by a previous harness; a child must only see what lambda_environment() gives it.
LAMBDA_ONLY = ("AWS_LAMBDA_", "_X_AMZN_TRACE_ID", "_HANDLER", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR")
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


def write_import_blocker(directory: Path, packages: frozenset[str] = IMAGE_LACKS) -> Path:
    """A sitecustomize.py in ``directory`` that makes ``packages`` unimportable.

    Python imports sitecustomize from sys.path at start-up, so putting ``directory`` first on PYTHONPATH
    blocks them in the child without touching its command line, which must stay the image's CMD.
    """
    (directory / "sitecustomize.py").write_text(block_imports(packages, "not in the Lambda image"))
    return directory


def lambda_environment(api_address: str, blocker_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without Lambda leftovers, plus what Lambda sets for a function."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(LAMBDA_ONLY)}
    python_path = [str(blocker_dir), *filter(None, [env.get("PYTHONPATH")])]
    lambda_sets = {
        "AWS_LAMBDA_RUNTIME_API": api_address,
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "2048",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{FUNCTION_NAME}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/23/[$LATEST]fake",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "LAMBDA_TASK_ROOT": str(REPO),
        "PYTHONPATH": os.pathsep.join(python_path),
    }
    return env | lambda_sets | (extra or {})


@dataclass
class RicProcess:
    """A running ``python -m awslambdaric``: its process and everything it printed."""

    popen: subprocess.Popen[bytes]
    output_path: Path
    captured: str | None = None  # the whole output, kept when the process ends and its scratch dir goes

    def alive(self) -> bool:
        """True while the client runs (it only exits on INIT failure or a Runtime API error)."""
        return self.popen.poll() is None

    def wait_exit(self, timeout_s: float = 60.0) -> int:
        """The exit status; raises subprocess.TimeoutExpired if it is still running."""
        return self.popen.wait(timeout=timeout_s)

    def output(self) -> str:
        """stdout and stderr so far, interleaved as printed (awslambdaric's \\r line joins read as \\n)."""
        if self.captured is not None:
            return self.captured
        return self.output_path.read_text(errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON lines it printed: Powertools log records and EMF metrics."""
        return json_lines(self.output())


@contextmanager
def awslambdaric(
    api: FakeRuntimeApi, env: dict[str, str] | None = None, handler: str = ENTRY_HANDLER
) -> Iterator[RicProcess]:
    """``python -m awslambdaric HANDLER`` in the repository root, as the image's CMD; killed by PID at the end.

    The client loops on /next forever, so it never exits on its own after a good INIT.
    """
    with tempfile.TemporaryDirectory(prefix="ric-") as scratch:
        directory = Path(scratch)
        output_path = directory / "output.log"
        environment = lambda_environment(api.address, write_import_blocker(directory), env)
        with output_path.open("wb") as output:
            popen = subprocess.Popen(
                [sys.executable, "-m", "awslambdaric", handler],
                cwd=REPO,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        client = RicProcess(popen, output_path)
        try:
            yield client
        finally:
            if popen.poll() is None:
                os.kill(popen.pid, signal.SIGKILL)
            popen.wait(timeout=10)
            client.captured = client.output()


class XRayDaemon:
    """A UDP listener in place of the X-Ray daemon, to see which trace the handler's subsegments joined.

    Why: Lambda hands the trace header to the runtime, awslambdaric puts it in _X_AMZN_TRACE_ID, and the
    X-Ray SDK behind Powertools' Tracer parents every subsegment on it. What arrives here (via
    AWS_XRAY_DAEMON_ADDRESS) is the only trace of an HTTP invocation, which logs nothing on success.
    """

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.05)
        self._segments: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._receive, name="fake-xray-daemon", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        """host:port, the value of AWS_XRAY_DAEMON_ADDRESS."""
        host, port = self._socket.getsockname()[:2]
        return f"{host}:{port}"

    def segments(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every (sub)segment document received so far, or those with this name."""
        with self._lock:
            return [segment for segment in self._segments if name is None or segment.get("name") == name]

    def wait_for(self, name: str, count: int, timeout_s: float = 10.0) -> list[dict[str, Any]]:
        """At least ``count`` subsegments called ``name``; UDP may trail the response the client posted."""
        deadline = time.monotonic() + timeout_s
        while len(found := self.segments(name)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} of {count} {name!r} subsegments arrived: {self.segments()!r}")
            time.sleep(0.02)
        return found

    def _receive(self) -> None:
        while not self._stopping.is_set():
            try:
                datagram = self._socket.recv(65536)
            except TimeoutError:
                continue
            _, _, document = datagram.partition(b"\n")  # a {"format": "json", "version": 1} header comes first
            try:
                segment = json.loads(document)
            except ValueError:
                segment = {"unparsed": document.decode("utf-8", "replace")}
            with self._lock:
                self._segments.append(segment)

    def stop(self) -> None:
        """Stop receiving and close the socket."""
        self._stopping.set()
        self._thread.join(timeout=10)
        self._socket.close()


@contextmanager
def xray_daemon() -> Iterator[XRayDaemon]:
    """A fake X-Ray daemon on a free loopback UDP port, stopped when the block ends."""
    daemon = XRayDaemon()
    try:
        yield daemon
    finally:
        daemon.stop()
