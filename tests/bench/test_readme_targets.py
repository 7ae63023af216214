"""GIVEN the committed README and docs/benchmarks.md WHEN their target tables are compared THEN they are the
same lines, one `make bench` run's (it writes both); and the README's table is rewritten between its marks only."""

from __future__ import annotations

import pytest

from bench import readme_targets
from bench.targets import TARGETS
from tests.testkit.paths import REPO


def test_the_readme_carries_the_target_table_of_docs_benchmarks() -> None:
    readme = readme_targets.between_marks((REPO / "README.md").read_text())
    report = readme_targets.table_of_report((REPO / "docs" / "benchmarks.md").read_text())
    assert readme == report
    assert [line.split(" | ")[0].removeprefix("| ") for line in readme[2:]] == [target.figure for target in TARGETS]


def test_rewriting_the_table_keeps_everything_around_the_marks() -> None:
    text = f"intro\n{readme_targets.START}\n| old |\n{readme_targets.END}\nrest\n"
    rewritten = readme_targets.with_table(text, ["| a |", "| b |"])
    assert rewritten == f"intro\n{readme_targets.START}\n| a |\n| b |\n{readme_targets.END}\nrest\n"
    assert readme_targets.between_marks(rewritten) == ["| a |", "| b |"]


def test_a_readme_without_the_marks_is_refused_with_what_it_needs() -> None:
    with pytest.raises(ValueError, match="bench-targets:start"):
        readme_targets.with_table("no marks here\n", ["| a |"])
