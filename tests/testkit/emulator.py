"""AWS's Lambda Runtime Interface Emulator (the aws-lambda-rie binary the aws-sam-cli wheel ships, the one the Lambda
base image runs when it is not in Lambda) serving a stand-in layout (testkit.lambda_base) the way the base image's
entry point starts it: ``aws-lambda-rie /var/runtime/bootstrap`` with ``_HANDLER`` from the image's CMD, in the task
root, as Lambda's uid 1051 when the tests run as root. Events go to its invocations URL, as ``curl`` or
``sam local invoke`` send them.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.testkit.http_host import free_port
from tests.testkit.lambda_base import LAMBDA_USER, Layout
from tests.testkit.paths import REPO
from tests.testkit.process import json_lines

INVOCATIONS = "/2015-03-31/functions/function/invocations"
RIE_ARCH = {"x86_64": "x86_64", "aarch64": "arm64"}


def rie_binary() -> Path:
    """The emulator for this machine from the tools venv's aws-sam-cli (make tools installs it)."""
    name = f"aws-lambda-rie-{RIE_ARCH[platform.machine()]}"
    found = sorted((REPO / ".venv-tools").glob(f"lib/python*/site-packages/samcli/local/rapid/{name}"))
    assert found, f"{name} not found in .venv-tools: run `make tools` (aws-sam-cli ships it)"
    return found[-1]


@dataclass
class Emulator:
    """A running emulator: its invocations URL and everything it and the runtime printed."""

    url: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def invoke(self, event: Any, timeout: float = 120) -> tuple[int, Any]:
        """POST the event as JSON; (HTTP status, the answer: JSON, or its text when it is not JSON)."""
        data = json.dumps(event).encode()
        request = urllib.request.Request(self.url + INVOCATIONS, data=data, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, _parsed(response.read())
        except urllib.error.HTTPError as error:
            return error.code, _parsed(error.read())

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON lines printed so far: Powertools log records and EMF metrics."""
        return json_lines("\n".join(self.output))

    def lines(self, fragment: str) -> list[str]:
        return [line for line in self.output if fragment in line]

    def logged_under(self, request_ids: list[str], timeout: float = 15) -> list[dict[str, Any]]:
        """The log records once one of each request id has arrived (or the timeout passed): the runtime's output
        reaches the emulator's pipe asynchronously, so the last invocation's lines can trail its answer."""
        deadline = time.monotonic() + timeout
        while True:
            records = self.log_records()
            seen = {record.get("function_request_id") for record in records}
            if set(request_ids) <= seen or time.monotonic() > deadline:
                return records
            time.sleep(0.05)


def _parsed(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        return body.decode(errors="replace")


def _collect(emulator: Emulator) -> None:
    assert emulator.process.stdout is not None
    for line in emulator.process.stdout:
        emulator.output.append(line.rstrip("\n"))


def _as_lambda_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    return ["setpriv", f"--reuid={LAMBDA_USER}", f"--regid={LAMBDA_USER}", "--clear-groups", "--"]


@contextmanager
def emulator(layout: Layout, env: dict[str, str], timeout_s: int = 15) -> Iterator[Emulator]:
    """The emulator on the layout, with the function's environment ``env`` (see Layout.environment) and its
    Timeout; stopped with SIGTERM (then SIGKILL) when the block ends."""
    binary = layout.root / "usr" / "local" / "bin" / "aws-lambda-rie"
    if not binary.exists():
        binary.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(rie_binary(), binary)
        binary.chmod(0o755)
    port, api_port = free_port(), free_port()
    command = [*_as_lambda_user(), str(binary), "--runtime-interface-emulator-address", f"127.0.0.1:{port}"]
    command += ["--runtime-api-address", f"127.0.0.1:{api_port}", str(layout.bootstrap)]
    environment = {**env, "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout_s), "HOME": "/tmp"}
    process = subprocess.Popen(
        command,
        cwd=layout.task_root,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    running = Emulator(f"http://127.0.0.1:{port}", process)
    reader = threading.Thread(target=_collect, args=(running,), daemon=True)
    reader.start()
    try:
        _wait_listening(running, port)
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        reader.join(timeout=10)
        assert process.stdout is not None
        process.stdout.close()


def _wait_listening(running: Emulator, port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise RuntimeError("the emulator exited:\n" + "\n".join(running.output))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the emulator never listened:\n" + "\n".join(running.output))
