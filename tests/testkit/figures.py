"""Figures the tests measure (footprint, checkov counts, fuzzing and fault totals), printed after the run.

Each suite adds lines under its own heading; tests/conftest.py prints every heading in the terminal summary,
so `make test` ends with the numbers the README and docs/ quote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import pytest

FIGURE, FAULT = "figure:", "fault-figures"  # user_properties names: they travel with the report, from xdist workers too
FAULTS_HEADING = "transient faults"


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


def figure_reporter(request: pytest.FixtureRequest, heading: str) -> Callable[[str], None]:
    """A function that adds one line under HEADING, for the test ``request`` serves. The line is a user property of
    the test, so it reaches the process that prints the summary, a pytest-xdist worker's too."""
    item = request.node
    assert isinstance(item, pytest.Item), "figures are reported from a test (a function-scoped fixture)"
    return lambda line: item.user_properties.append((FIGURE + heading, line))


def fault_reporter(request: pytest.FixtureRequest) -> Callable[..., None]:
    """A function that adds one transient-fault scenario (FaultFigures' fields) to the summary's totals."""
    item = request.node
    assert isinstance(item, pytest.Item), "figures are reported from a test (a function-scoped fixture)"
    return lambda **fields: item.user_properties.append((FAULT, asdict(FaultFigures(**fields))))


@dataclass
class Collected:
    """The figures gathered in the process that prints the summary."""

    lines: dict[str, list[str]] = field(default_factory=dict)
    faults: list[FaultFigures] = field(default_factory=list)


COLLECTED = Collected()


def collect_figures(report: pytest.TestReport) -> None:
    """Keep the figures of a finished test (its teardown report carries every user property it gathered)."""
    if report.when != "teardown":
        return
    for name, value in report.user_properties:
        if name.startswith(FIGURE):
            COLLECTED.lines.setdefault(name.removeprefix(FIGURE), []).append(str(value))
        elif name == FAULT:
            COLLECTED.faults.append(FaultFigures(**dict(value)))


def _fault_lines(scenarios: list[FaultFigures]) -> list[str]:
    total = (
        f"total: {len(scenarios)} scenarios, {sum(s.injected for s in scenarios)} faults injected, "
        f"{sum(s.retries for s in scenarios)} retries seen, {sum(s.lost for s in scenarios)} records lost"
    )
    return [*(scenario.line() for scenario in scenarios), total]


def print_figures(terminalreporter: pytest.TerminalReporter) -> None:
    """Every heading with its lines, in the order the headings first got one; the fault scenarios with totals last."""
    sections = dict(COLLECTED.lines)
    if COLLECTED.faults:
        sections[FAULTS_HEADING] = _fault_lines(COLLECTED.faults)
    for heading, lines in sections.items():
        terminalreporter.section(heading)
        for line in lines:
            terminalreporter.write_line(line)
