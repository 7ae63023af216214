"""The deployment checks report figures (runtime footprint, checkov counts) at the end of the run."""

from __future__ import annotations

from collections.abc import Callable

import pytest

REPORT = pytest.StashKey[list[str]]()


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Add a line to the "deployment figures" section printed after the tests."""
    lines = request.config.stash.setdefault(REPORT, [])
    return lines.append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    lines = config.stash.get(REPORT, [])
    if lines:
        terminalreporter.section("deployment figures")
        for line in lines:
            terminalreporter.write_line(line)
