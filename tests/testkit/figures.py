"""Figures the tests measure (footprint, checkov counts, fuzzing and fault totals), printed after the run.

Each suite adds lines under its own heading; tests/conftest.py prints every heading in the terminal summary,
so `make test` ends with the numbers the README quotes.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

FIGURES = pytest.StashKey[dict[str, list[str]]]()


def figure_reporter(config: pytest.Config, heading: str) -> Callable[[str], None]:
    """A function that adds one line under HEADING."""
    return config.stash.setdefault(FIGURES, {}).setdefault(heading, []).append


def print_figures(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Every heading with its lines, in the order the headings first got one."""
    for heading, lines in config.stash.get(FIGURES, {}).items():
        terminalreporter.section(heading)
        for line in lines:
            terminalreporter.write_line(line)
