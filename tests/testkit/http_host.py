"""The container host's HTTP server (handler.http_host) as a child process on a free loopback port, watched from
spawn to its first answer: every attempt before it is recorded, so a test can show no answer came before INIT."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.testkit.paths import REPO


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class HostProcess:
    """A running HTTP host, what it printed, and what each readiness poll before the first answer got."""

    url: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)
    polls: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM (unless it has exited), as a container host stops a task; then the exit status, once all it
        printed is read."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(timeout=timeout)
        if self.reader is not None:
            self.reader.join(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return status


def _collect(host: HostProcess) -> None:
    assert host.process.stdout is not None
    for line in host.process.stdout:
        host.output.append(line.rstrip("\n"))


def wait_for_health(host: HostProcess, timeout: float) -> None:
    """Poll GET /health until it answers 200, recording each earlier outcome; raises RuntimeError if the process
    exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if host.process.poll() is not None:
            raise RuntimeError(f"the HTTP host exited with {host.process.returncode}:\n" + "\n".join(host.output))
        try:
            with urllib.request.urlopen(host.url + "/health", timeout=5) as response:
                host.polls.append(str(response.status))
                return
        except urllib.error.HTTPError as error:
            host.polls.append(str(error.code))
        except OSError as error:  # nothing listening yet
            host.polls.append(type(error).__name__)
        time.sleep(0.05)
    raise RuntimeError("the HTTP host did not answer /health in time:\n" + "\n".join(host.output))


def start_host(*args: str, env: dict[str, str] | None = None) -> HostProcess:
    """`python -m handler.http_host --host 127.0.0.1 --port FREE ARGS`, its output collected as it comes."""
    port = free_port()
    command = [sys.executable, "-m", "handler.http_host", "--host", "127.0.0.1", "--port", str(port), *args]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    host = HostProcess(f"http://127.0.0.1:{port}", process)
    host.reader = threading.Thread(target=_collect, args=(host,), daemon=True)
    host.reader.start()
    return host


@contextmanager
def http_host(*args: str, env: dict[str, str] | None = None, timeout: float = 90) -> Iterator[HostProcess]:
    """A ready HTTP host for the block (its /health answered 200), stopped with SIGTERM after it."""
    host = start_host(*args, env=env)
    try:
        wait_for_health(host, timeout)
        yield host
    finally:
        host.stop()
