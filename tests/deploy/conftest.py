"""The deployment checks report figures (runtime footprint, checkov counts) at the end of the run."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from testkit.figures import figure_reporter


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Add a line to the "deployment figures" section printed after the tests."""
    return figure_reporter(request.config, "deployment figures")
