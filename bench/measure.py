"""Running contestants in fresh processes and summarising samples: the parts every benchmark shares."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
WEIGHTS = REPO / "bench" / ".cache" / "digits-cnn.pt"


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a contestant's process: this one, plus the peer's weights and overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_LAMBDA_", "_X_AMZN"))}
    return env | {"PEER_WEIGHTS": str(WEIGHTS), "PYTHONDONTWRITEBYTECODE": "1"} | (extra or {})


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


def percentile(samples: list[float], share: float) -> float:
    """The ``share`` quantile (0.5 = median) by linear interpolation."""
    ordered = sorted(samples)
    position = (len(ordered) - 1) * share
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(samples: list[float]) -> float:
    return statistics.median(samples)
