"""The real local gateway in a subprocess on a free loopback port: started, awaited, stopped."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from testkit.paths import REPO

READY_LINE = re.compile(r"listening on (http://[\d.]+:\d+\S*)")


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
    """A running gateway, its base URL (with the stage path, if any) and everything it has printed."""

    url: str
    process: subprocess.Popen[str]
    output: list[str]

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
def local_server(*args: str, env: dict[str, str] | None = None, timeout: float = 60.0) -> Iterator[LocalServer]:
    """Start `python -m handler.local_gateway --port 0 ARGS`, wait until it listens (after INIT), stop it after."""
    command = [sys.executable, "-m", "handler.local_gateway", "--host", "127.0.0.1", "--port", "0", *args]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    drain = threading.Thread(target=_drain, args=(process, output), daemon=True)
    try:
        url = _await_url(process, timeout, output)
        # Keep reading what it prints, so a full pipe never blocks the server.
        drain.start()
        yield LocalServer(url, process, output)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if drain.is_alive():
            drain.join(timeout=5)
        assert process.stdout is not None
        process.stdout.close()


def _drain(process: subprocess.Popen[str], output: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        output.append(line)


def _await_url(process: subprocess.Popen[str], timeout: float, seen: list[str]) -> str:
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            raise RuntimeError(f"local gateway exited with {process.returncode}:\n{''.join(seen)}")
        seen.append(line)
        match = READY_LINE.search(line)
        if match:
            return match.group(1)
    raise RuntimeError(f"local gateway did not start within {timeout}s:\n{''.join(seen)}")
