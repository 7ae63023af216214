"""A fake X-Ray daemon: a loopback UDP listener that keeps the segment documents the X-Ray SDK sends.

Why: an HTTP invocation logs nothing on success, so the subsegments the handler sends are the only sign
of which trace it ran under; see XRayDaemon.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


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
