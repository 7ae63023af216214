"""awslambdaric run as the image's CMD runs it, against testkit.runtime_api's fake Runtime API.

Why: only the real client shows what becomes of a return value, an exception or a failed INIT, so it runs
as the image runs it, ``python -m awslambdaric handler.entrypoint.lambda_handler`` in the repository
root, in a child process given the environment Lambda sets for a function and nothing left over from
this one. A sitecustomize blocks the export-time packages the image lacks, so an import the image could
not satisfy fails here too. The child is killed by PID when the block ends: after a good INIT it loops on
/next forever. serve() feeds a sequence of event files to one such child (one INIT, as a warm instance
sees them) with a fake X-Ray daemon listening, and keeps what it did with each.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.testkit.events import load_event
from tests.testkit.paths import REPO
from tests.testkit.process import block_imports, json_lines
from tests.testkit.runtime_api import FUNCTION_NAME, FakeRuntimeApi, Invocation, Post, runtime_api
from tests.testkit.xray import xray_daemon

ENTRY_HANDLER = "handler.entrypoint.lambda_handler"
# What the Lambda image does without: export-time packages that must never be imported at run time.
IMAGE_LACKS = frozenset({"torch", "sklearn", "skl2onnx", "onnx", "joblib", "model_export"})
# Set by Lambda itself or by a previous harness; a child must only see what lambda_environment() gives it.
LAMBDA_ONLY = ("AWS_LAMBDA_", "_X_AMZN_TRACE_ID", "_HANDLER", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR")
WAIT_S = 60.0  # every wait is bounded: a hang fails the test instead of blocking CI


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


@dataclass(frozen=True)
class Served:
    """What one awslambdaric process did with a sequence of event files."""

    invocations: dict[str, Invocation]
    posts: dict[str, Post]
    log_records: list[dict[str, Any]]
    handler_segments: list[dict[str, Any]]
    alive_after: bool
    output: str


def serve(names: list[str], env: dict[str, str], timeout_s: float) -> Served:
    """Feed the event files, in order, to ONE client process (one INIT, like a warm instance)."""
    with runtime_api() as api, xray_daemon() as daemon:
        invocations = {name: api.enqueue(load_event(name), timeout_s=timeout_s) for name in names}
        # Tracing on (TRACE_INFERENCE), as a function deployed with it: the subsegments prove the trace header
        # reaches the handler.
        tracing = {"AWS_XRAY_DAEMON_ADDRESS": daemon.address, "TRACE_INFERENCE": "true"}
        with awslambdaric(api, env=env | tracing) as client:
            try:
                api.wait_for_posts(len(names), timeout_s=WAIT_S, alive=client.alive)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n--- client output:\n{client.output()}") from None
            segments = daemon.wait_for("## lambda_handler", len(names))
            alive_after = client.alive()
        posts = {name: api.post_for(invocation.request_id) for name, invocation in invocations.items()}
        return Served(invocations, posts, client.log_records(), segments, alive_after, client.output())
