"""Shared fixtures: the default model (built once if missing) and the event files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from testkit.paths import DEFAULT_MODEL, REPO


@pytest.fixture(scope="session")
def default_model() -> Path:
    """models/digits-cnn.onnx, exported with `python -m model_export digits` when absent (make does it first)."""
    if not DEFAULT_MODEL.is_file():
        subprocess.run(
            [sys.executable, "-m", "model_export", "digits", "--out-dir", str(DEFAULT_MODEL.parent)],
            cwd=REPO,
            check=True,
        )
    return DEFAULT_MODEL
