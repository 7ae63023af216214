"""Fixtures for the batch tests: moto on a loopback port, the real entry point, held-out digits, and the
transient-fault figures printed after the run (testkit.figures)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from tests.testkit.aws import Aws
from tests.testkit.figures import fault_reporter
from tests.testkit.paths import DEFAULT_MODEL


@pytest.fixture(scope="session")
def entry(moto: Aws) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """handler.entrypoint.lambda_handler; importing it is INIT."""
    from handler.entrypoint import lambda_handler  # noqa: PLC0415

    return lambda_handler


@pytest.fixture(scope="session")
def digits(default_model: Path) -> tuple[np.ndarray, np.ndarray]:
    """Held-out digits X [n, 1, 8, 8] float32 and y int64."""
    data = np.load(default_model.parent / "digits-test.npz")
    return data["X"], data["y"]


@pytest.fixture(scope="session")
def expected_probabilities() -> Callable[[np.ndarray], np.ndarray]:
    """What the model says for instances, from onnxruntime directly (not through the handler)."""
    session = ort.InferenceSession(str(DEFAULT_MODEL), providers=["CPUExecutionProvider"])

    def run(x: np.ndarray) -> np.ndarray:
        result: np.ndarray = session.run(["probabilities"], {"input": x.astype(np.float32)})[0]
        return result

    return run


@pytest.fixture
def fault_report(request: pytest.FixtureRequest) -> Callable[..., None]:
    """Add a scenario (FaultFigures' fields) to the "transient faults" figures printed after the tests, with
    the running totals last."""
    return fault_reporter(request)
