"""The command line as a user runs it: the installed console script in a fresh process, its one-line
errors, and the real local gateway `onnx-lambda serve` starts."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import AbstractContextManager
from pathlib import Path

from onnx_lambda.gateway_process import GatewayProcess, spawn_gateway
from tests.testkit.paths import REPO

# The console script `pip install -e .` puts beside this interpreter ([project.scripts] in pyproject.toml).
CONSOLE_SCRIPT = Path(sys.executable).parent / "onnx-lambda"


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`onnx-lambda ARGS` as a user runs it: the console script in a fresh process (stderr is not a TTY)."""
    assert CONSOLE_SCRIPT.is_file(), f"{CONSOLE_SCRIPT} is missing: pip install -e . (make setup) installs it"
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The failure's stderr, which must be exactly one line with no traceback; returns that line."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def serve(*args: str, timeout: float = 60) -> AbstractContextManager[GatewayProcess]:
    """`onnx-lambda serve ARGS --port 0` until the block ends; its URL once the model is ready."""
    return spawn_gateway(*args, timeout=timeout, command=[str(CONSOLE_SCRIPT), "serve", "--port", "0"])
