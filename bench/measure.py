"""Running contestants in fresh processes and summarising samples: the parts every benchmark shares."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
WEIGHTS = REPO / "bench" / ".cache" / "digits-cnn.pt"
DIGITS = REPO / "models" / "digits-cnn.onnx"


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a contestant's process: this one, plus the peer's weights, the digits model and overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_LAMBDA_", "_X_AMZN"))}
    fixed = {"PEER_WEIGHTS": str(WEIGHTS), "MODEL_PATH": str(DIGITS), "PYTHONDONTWRITEBYTECODE": "1"}
    return env | fixed | (extra or {})


def run_child(*args: str, env: dict[str, str] | None = None, python_flags: tuple[str, ...] = ()) -> dict[str, Any]:
    """``python -m bench.child ARGS`` in a fresh process; its last stdout line, parsed, plus wall seconds."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, *python_flags, "-m", "bench.child", *args],
        cwd=REPO,
        env=child_env(env),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"bench.child {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer | {"wall_s": wall, "stderr": result.stderr}


def run_first(*args: str, env: dict[str, str] | None = None, python_flags: tuple[str, ...] = ()) -> dict[str, Any]:
    """``python -m bench.child first ARGS`` in a fresh process, timed from spawn to the line it prints after its
    first response (not to its exit: the interpreter's teardown, 0.17 s for this project and 0.65 s for torch, is
    no part of a cold start); that line, parsed, plus ``wall_s`` and the child's stderr."""
    with tempfile.TemporaryFile("w+") as stderr:  # a file, not a pipe: -X importtime writes more than a pipe holds
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, *python_flags, "-m", "bench.child", "first", *args],
            cwd=REPO,
            env=child_env(env),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        assert child.stdout is not None
        answer: dict[str, Any] | None = None
        for line in child.stdout:  # INIT's log lines come first
            if line.startswith('{"first_response"'):
                wall = time.perf_counter() - started
                answer = json.loads(line)
                break
        child.stdout.read()
        returncode = child.wait(timeout=600)
        stderr.seek(0)
        errors = stderr.read()
    if returncode != 0 or answer is None:
        raise RuntimeError(f"bench.child first {' '.join(args)} failed:\n{errors[-3000:]}")
    return answer | {"wall_s": wall, "stderr": errors}


def percentile(samples: list[float], share: float) -> float:
    """The ``share`` quantile (0.5 = median) by linear interpolation."""
    ordered = sorted(samples)
    position = (len(ordered) - 1) * share
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(samples: list[float]) -> float:
    return statistics.median(samples)
