"""The target table in the README, between its two marks, rewritten by every full `make bench` run so the README
and docs/benchmarks.md always carry one run's figures (tests/bench/test_readme_targets.py holds them equal)."""

from __future__ import annotations

from pathlib import Path

START = "<!-- bench-targets:start -->"
END = "<!-- bench-targets:end -->"


def between_marks(text: str) -> list[str]:
    """The lines between the marks (ValueError when the README lacks them)."""
    head, _, rest = text.partition(START + "\n")
    body, found, _ = rest.partition(END)
    if not head or not found:
        raise ValueError(f"the README needs the marks {START} and {END} around its target table")
    return body.rstrip("\n").splitlines()


def with_table(text: str, table: list[str]) -> str:
    """``text`` with the lines between the marks replaced by ``table``."""
    between_marks(text)
    head, _, rest = text.partition(START + "\n")
    _, _, tail = rest.partition(END)
    return head + START + "\n" + "\n".join(table) + "\n" + END + tail


def table_of_report(report: str) -> list[str]:
    """The target table of a benchmarks.md: the table lines under its "## Targets" heading."""
    section = report.split("## Targets\n", 1)[1]
    return [line for line in section.split("\n## ", 1)[0].splitlines() if line.startswith("|")]


def write(readme: Path, table: list[str]) -> None:
    readme.write_text(with_table(readme.read_text(), table))
