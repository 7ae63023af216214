"""A fault-injecting HTTP proxy in front of the moto server, so tests can make S3 and SQS flaky on demand.

moto answers every request correctly; real AWS does not. The proxy sits on its own loopback port, the
handler's boto3 client is pointed at it (``AWS_ENDPOINT_URL``) and it forwards each request to moto with
http.client, except for the next N requests that match a fault the test planned: those get a 5xx with an
S3-style XML error, a connection closed with no answer at all (``drop``), or the real response's headers
and only part of its body (``truncate``, the mid-body reset botocore does not retry by itself). Every
request seen is recorded, so a test can prove the retries happened and not only that the outcome was right.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import unquote, urlsplit

from tests.testkit.loopback import serving

FaultKind = Literal["slowdown", "internal", "drop", "truncate"]
# Hop-by-hop headers are the proxy's own business on each side; everything else is forwarded untouched.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "expect", "content-length"}
STATUS: dict[str, tuple[int, str, str]] = {
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
    "internal": (500, "InternalError", "We encountered an internal error. Please try again."),
}


@dataclass(frozen=True)
class Request:
    """What the proxy saw of one request, and the fault it got (None: forwarded as is)."""

    method: str
    path: str  # URL-decoded, without the query
    query: str
    headers: dict[str, str]
    fault: FaultKind | None = None

    @property
    def attempt(self) -> int:
        """botocore's attempt number from its ``amz-sdk-request: attempt=N; max=M`` header (1 when absent)."""
        fields = dict(part.strip().partition("=")[::2] for part in self.headers.get("amz-sdk-request", "").split(";"))
        return int(fields.get("attempt") or 1)


@dataclass(frozen=True)
class Match:
    """Which requests a fault applies to: every given part must match (substrings, method exactly).

    ``action`` matches SQS and other JSON/query APIs: the X-Amz-Target header (``AmazonSQS.SendMessage``)
    or an ``Action=`` in the query.
    """

    method: str | None = None
    path: str | None = None
    query: str | None = None
    action: str | None = None

    def __call__(self, request: Request) -> bool:
        target = request.headers.get("x-amz-target", "") + "|" + request.query
        return (
            (self.method is None or request.method == self.method)
            and (self.path is None or self.path in request.path)
            and (self.query is None or self.query in request.query)
            and (self.action is None or self.action in target)
        )


@dataclass
class Fault:
    """Inject ``kind`` into the next ``times`` matching requests (``times=None``: until cleared)."""

    kind: FaultKind
    match: Match
    times: int | None
    keep_fraction: float = 0.5  # truncate: the share of the body sent before the connection closes


@dataclass
class FaultPlan:
    """The faults a test planned and everything the proxy saw; shared by the handler threads, hence the lock."""

    faults: list[Fault] = field(default_factory=list)
    seen: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, request: Request) -> Fault | None:
        """The fault this request gets, if any, counting it against its budget; records the request."""
        with self.lock:
            fault = next((f for f in self.faults if (f.times is None or f.times > 0) and f.match(request)), None)
            if fault is not None and fault.times is not None:
                fault.times -= 1
            self.seen.append(replace(request, fault=fault.kind if fault else None))
            return fault


class FlakyProxy:
    """The proxy's controls: plan faults, clear them, and count what was injected and seen."""

    def __init__(self, url: str, plan: FaultPlan) -> None:
        self.url = url
        self.plan = plan

    def fail(self, kind: FaultKind, match: Match, times: int | None = 1, keep_fraction: float = 0.5) -> Fault:
        """Plan a fault; returns it so a test can see how much of its budget is left."""
        fault = Fault(kind, match, times, keep_fraction)
        with self.plan.lock:
            self.plan.faults.append(fault)
        return fault

    def heal(self) -> None:
        """The outage is over: no more faults (what was seen stays counted)."""
        with self.plan.lock:
            self.plan.faults.clear()

    def seen(self, match: Match | None = None) -> list[Request]:
        """The requests seen so far (matching ``match``), in arrival order."""
        with self.plan.lock:
            return [request for request in self.plan.seen if match is None or match(request)]

    def retries(self, match: Match | None = None) -> int:
        """How many requests (matching ``match``) botocore sent as a retry of an earlier attempt."""
        return sum(1 for request in self.seen(match) if request.attempt > 1)

    def injected(self, match: Match | None = None) -> int:
        """How many faults were injected (into requests matching ``match``)."""
        return sum(1 for request in self.seen(match) if request.fault is not None)


class _Handler(BaseHTTPRequestHandler):
    """Reads one request whole, then forwards it, fails it, or forwards it and breaks the answer."""

    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    timeout = 30  # an abandoned client connection frees its thread
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: pytest output is for failures."""

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(parts)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _handle(self) -> None:
        split = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        body = self._body()
        fault = self.server.plan.take(Request(self.command, unquote(split.path), split.query, headers))
        if fault is not None and fault.kind == "drop":
            self.close_connection = True  # nothing is written: the client sees the connection close
            return
        if fault is not None and fault.kind in STATUS:
            status, code, message = STATUS[fault.kind]
            xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            self._answer(status, [("Content-Type", "application/xml")], (xml + "</Error>").encode())
            return
        status, reply_headers, data = self._forward(body)
        if fault is not None:  # truncate: the full Content-Length is promised, part of it sent, then EOF
            self._answer(status, reply_headers, data[: int(len(data) * fault.keep_fraction)], len(data))
            self.close_connection = True
            return
        self._answer(status, reply_headers, data)

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        upstream = http.client.HTTPConnection(self.server.upstream, timeout=30)
        try:
            headers = {name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            kept = [(name, value) for name, value in response.getheaders() if name.lower() not in HOP_BY_HOP]
            if self.command == "HEAD":  # HEAD's Content-Length is the object's size, not this (empty) body's
                kept += [(name, value) for name, value in response.getheaders() if name.lower() == "content-length"]
            return response.status, kept, data
        finally:
            upstream.close()

    def _answer(self, status: int, headers: list[tuple[str, str]], data: bytes, length: int | None = None) -> None:
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(data) if length is None else length))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # idle keep-alive connections must not hold up stopping

    def __init__(self, upstream: str, plan: FaultPlan) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = upstream
        self.plan = plan


@contextmanager
def flaky_proxy(upstream_url: str) -> Iterator[FlakyProxy]:
    """Start the proxy on a free loopback port in front of ``upstream_url`` (moto); stop it on exit."""
    server = _Server(urlsplit(upstream_url).netloc, FaultPlan())
    with serving(server) as url:
        yield FlakyProxy(url, server.plan)
