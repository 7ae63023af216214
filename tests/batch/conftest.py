"""Fixtures for the batch tests: moto on a loopback port, the real entry point, held-out digits, and the
transient-fault figures printed after the run (testkit.figures)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from testkit.aws import Aws
from testkit.figures import FIGURES
from testkit.paths import DEFAULT_MODEL


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


@dataclass(frozen=True)
class FaultFigures:
    """What one transient-fault scenario injected and what came out of it; the requirement is lost == 0."""

    scenario: str
    injected: int
    retries: int  # requests the proxy saw as botocore's attempt 2+ or as a resumed (Range) GET of an input
    records_in: int
    scored: int
    failed: int

    @property
    def lost(self) -> int:
        """Records of the input counted neither as scored nor as failed."""
        return self.records_in - self.scored - self.failed

    def line(self) -> str:
        return (
            f"{self.scenario}: {self.injected} faults injected, {self.retries} retries seen; records in "
            f"{self.records_in}, scored {self.scored}, failed {self.failed}, lost {self.lost}"
        )


FAULT_FIGURES = pytest.StashKey[list[FaultFigures]]()
FAULTS_HEADING = "transient faults"


@pytest.fixture
def fault_report(request: pytest.FixtureRequest) -> Callable[..., None]:
    """Add a scenario (FaultFigures' fields) to the "transient faults" figures printed after the tests, with
    the running totals last."""
    config = request.config

    def add(**fields: Any) -> None:
        figures = FaultFigures(**fields)
        scenarios = config.stash.setdefault(FAULT_FIGURES, [])
        scenarios.append(figures)
        lines = config.stash.setdefault(FIGURES, {}).setdefault(FAULTS_HEADING, [])
        lines[:] = [scenario.line() for scenario in scenarios]
        lines.append(
            f"total: {len(scenarios)} scenarios, {sum(s.injected for s in scenarios)} faults injected, "
            f"{sum(s.retries for s in scenarios)} retries seen, {sum(s.lost for s in scenarios)} records lost"
        )

    return add
