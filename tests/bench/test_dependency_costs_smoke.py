"""GIVEN bench/dependency_costs.py (the figures the hand-written pieces' docstrings cite) WHEN its response
comparison runs in its shortest form THEN FastAPI's response_model path gives the same answer as fast_json for
each request, so the comparison fast_json's docstring quotes compares like with like (``calls`` takes minutes)."""

from __future__ import annotations

import subprocess
import sys

from tests.testkit.paths import REPO


def run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bench.dependency_costs", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_fastapis_response_model_path_answers_exactly_what_fast_json_does() -> None:
    out = run("responses", "--processes", "1", "--blocks", "1", "--calls", "1")
    assert out.count("same answer both ways: True") == 4, out
    assert "same answer both ways: False" not in out
