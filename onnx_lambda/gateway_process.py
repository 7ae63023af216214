"""The local gateway (`onnx-lambda serve`) as a child process on a free loopback port, for the demo, the tests
and the benchmarks.

Started with ``--port 0``; the child prints its URL only after INIT (model loaded and warmed up), so
the URL is the readiness signal. Everything it prints afterwards is collected, so a full pipe never
blocks it, and it is interrupted and reaped on exit.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

READY_LINE = re.compile(r"listening on (http://[\d.]+:\d+\S*)")
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class GatewayProcess:
    """A running gateway, its base URL (with the stage path, if any) and everything it has printed."""

    url: str
    process: subprocess.Popen[str]
    output: list[str]


@contextmanager
def spawn_gateway(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60.0, command: Sequence[str] = ()
) -> Iterator[GatewayProcess]:
    """Run `onnx-lambda serve --host 127.0.0.1 --port 0 ARGS` (or ``command`` ARGS) until the block ends; raises
    RuntimeError if it fails. The model is MODEL_PATH's, from ``env`` or this process's environment."""
    start = list(command) or [sys.executable, "-m", "onnx_lambda", "serve", "--host", "127.0.0.1", "--port", "0"]
    process = subprocess.Popen(
        [*start, *args],
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
        drain.start()
        yield GatewayProcess(url, process, output)
    finally:
        _stop(process, drain)


STOP_TIMEOUT_S = 10  # a gateway stops in ~0.2 s after SIGINT (under 1 s on a busy machine)


def _stop(process: subprocess.Popen[str], drain: threading.Thread) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if drain.is_alive():
        drain.join(timeout=5)
    if process.stdout is not None:
        process.stdout.close()


def _drain(process: subprocess.Popen[str], output: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        output.append(line)


def _await_url(process: subprocess.Popen[str], timeout: float, seen: list[str]) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            raise RuntimeError(f"local gateway exited with {process.returncode}:\n{''.join(seen)}")
        seen.append(line)
        match = READY_LINE.search(line)
        if match:
            return match.group(1)
    raise RuntimeError(f"local gateway did not start within {timeout}s:\n{''.join(seen)}")
