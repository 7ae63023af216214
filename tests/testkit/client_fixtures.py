"""Fixtures for the standard-client tests: the real local server, held-out digits, onnxruntime's own answer, curl.

The clients under test (tritonclient, httpx, curl, boto3-shaped events) are used as their users use them; the
expected values never come from the handler, only from onnxruntime run directly on the same model file.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from tests.testkit.apt import apt_install
from tests.testkit.server import LocalServer, local_server


@pytest.fixture(scope="session")
def server(default_model: Path) -> Iterator[LocalServer]:
    """One real local server (Lambda entry point behind the API Gateway emulation) for every client here."""
    with local_server() as running:
        yield running


@pytest.fixture(scope="session")
def digits(default_model: Path) -> np.ndarray:
    """Eight held-out digits, float32 [8, 1, 8, 8]: real images the model did not train on."""
    data = np.load(default_model.parent / "digits-test.npz")
    images: np.ndarray = data["X"][:8].astype(np.float32)
    return images


@pytest.fixture(scope="session")
def session(default_model: Path) -> ort.InferenceSession:
    """onnxruntime on the served model file, with no handler code in between."""
    return ort.InferenceSession(str(default_model), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="session")
def oracle(session: ort.InferenceSession) -> Callable[[np.ndarray], dict[str, np.ndarray]]:
    """What the model says for a batch [n, 1, 8, 8]: every output by name, from onnxruntime directly."""
    names = [output.name for output in session.get_outputs()]

    def run(batch: np.ndarray) -> dict[str, np.ndarray]:
        results = session.run(names, {"input": np.asarray(batch, dtype=np.float32)})
        return dict(zip(names, results, strict=True))

    return run


@pytest.fixture(scope="session")
def curl() -> str:
    """The curl executable; installed with apt-get when missing, because CI may run on a fresh machine."""
    found = shutil.which("curl")
    if found is None:
        apt_install(("curl",))
        found = shutil.which("curl")
    assert found is not None, "curl is not on PATH even after apt-get install curl"
    return found


@pytest.fixture(scope="session")
def lambda_handler(default_model: Path) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """handler.entrypoint.lambda_handler, the function's real entry point; importing it is INIT."""
    from handler.entrypoint import lambda_handler as entry  # noqa: PLC0415 - importing loads the model

    return entry
