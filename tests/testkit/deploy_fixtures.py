"""The deployment checks report figures (runtime footprint, checkov counts) at the end of the run, and share one
stand-in of the image's layout for AWS's runtime emulator."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.testkit.figures import figure_reporter
from tests.testkit.lambda_base import Layout, lay_out, stand_in_root
from tests.testkit.paths import DEFAULT_MODEL


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Add a line to the "deployment figures" section printed after the tests."""
    return figure_reporter(request, "deployment figures")


@pytest.fixture(scope="session")
def layout(default_model: Path) -> Iterator[Layout]:
    """The image's task root laid out from the Dockerfile's own lines (testkit.lambda_base), built once: its model
    copied from a file only its owner could read, as a model exported under umask 077 is."""
    with stand_in_root("onnx-lambda-rie-") as root:
        private = root / "build-context" / "model.onnx"
        private.parent.mkdir()
        shutil.copy(DEFAULT_MODEL, private)
        private.chmod(0o600)
        yield lay_out(root, private)
