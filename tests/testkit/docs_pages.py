"""The project's hand-written documentation, README.md and the docs/ pages, and which page holds a given text.

Tests that run or check what the documentation says find it here by what it is (a heading, an example mark, an
exact phrase), never by the file that held it last, so a section moved from one page to another does not break
them. The pages `make bench`, `make load` and `make fuzz` write (docs/benchmarks.md, docs/load.md, docs/fuzz.md)
are left out: nothing a user copies lives there.
"""

from __future__ import annotations

from pathlib import Path

from tests.testkit.paths import REPO

README = REPO / "README.md"
DOCS = REPO / "docs"
# Written by bench/report.py, bench/load.py and bench/fuzz.py; never hand-edited.
GENERATED = frozenset({"benchmarks.md", "load.md", "fuzz.md"})


def pages() -> list[Path]:
    """README.md, then every hand-written docs/*.md page by name."""
    return [README, *sorted(path for path in DOCS.glob("*.md") if path.name not in GENERATED)]


def every_page() -> list[Path]:
    """The hand-written pages and the generated ones: every page a link may point into."""
    return [README, *sorted(DOCS.glob("*.md"))]


def name(page: Path) -> str:
    """The page as the repository names it: ``README.md``, ``docs/api.md``."""
    return page.relative_to(REPO).as_posix()


def holding(text: str) -> Path:
    """The one page that holds ``text`` (a heading, a mark, a phrase); fails naming them when none or several do."""
    found = [page for page in pages() if text in page.read_text()]
    assert len(found) == 1, f"{text!r} is on {[name(page) for page in found]}: expected exactly one page"
    return found[0]


def text_holding(text: str) -> str:
    """The whole text of the one page that holds ``text``."""
    return holding(text).read_text()
