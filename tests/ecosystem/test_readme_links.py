"""GIVEN README.md and every docs/*.md page WHEN their relative Markdown links are followed THEN each names a file
that exists and, with a #fragment, a heading of that page under GitHub's anchor rules (lowercase, punctuation
dropped, spaces to '-', repeats numbered); the README links every docs page, and each hand-written docs page opens
with its title, one line on what it holds, and a link back to the README."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.testkit import docs_pages
from tests.testkit.paths import REPO

FENCE = re.compile(r"^ {0,3}(```|~~~)")
CODE_SPAN = re.compile(r"(`+).*?\1")
# [text](target) and ![alt](target), the target up to an optional "title"; and [label]: target definitions.
INLINE = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?(?P<target>[^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(?P<target>\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(?P<text>.*?)\s*#*\s*$")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # https:, mailto:, ...


@dataclass(frozen=True)
class Link:
    """One relative link of a page: where it is and what it points at."""

    page: Path
    line: int
    target: str

    def __str__(self) -> str:
        return f"{docs_pages.name(self.page)} line {self.line}: ({self.target})"


def prose_lines(markdown: str) -> Iterator[tuple[int, str]]:
    """The lines outside fenced code blocks, numbered from 1."""
    fenced = ""
    for number, line in enumerate(markdown.splitlines(), start=1):
        opened = FENCE.match(line)
        if opened and (not fenced or opened[1] == fenced):
            fenced = "" if fenced else opened[1]
            continue
        if not fenced:
            yield number, line


def links(page: Path, markdown: str) -> list[Link]:
    """Every relative link of the Markdown (an external URL is not checked here)."""
    found: list[Link] = []
    for number, raw in prose_lines(markdown):
        line = CODE_SPAN.sub("", raw)  # `[text](target)` in code is no link
        targets = [match["target"] for match in INLINE.finditer(line)]
        definition = DEFINITION.match(line)
        targets += [definition["target"]] if definition else []
        found += [Link(page, number, target) for target in targets if target and not EXTERNAL.match(target)]
    return found


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading's text: its rendered text lowercased, every character that is not a letter,
    digit, space, '-' or '_' dropped, each space a '-'."""
    text = re.sub(r"<[^>]+>", "", heading)  # inline HTML
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link's text
    text = text.replace("`", "").replace("*", "")
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every heading's anchor, the second of a repeated one numbered '-1', the third '-2', as GitHub numbers them."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in prose_lines(markdown):
        heading = HEADING.match(line)
        if heading is None:
            continue
        base = slug(heading["text"])
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(f"{base}-{count}" if count else base)
    return found


def problem(link: Link) -> str | None:
    """Why a link does not resolve, or None when it does."""
    path, _, fragment = link.target.partition("#")
    target = (link.page.parent / path).resolve() if path else link.page
    if not target.exists():
        return f"{link}: no such file {target.relative_to(REPO) if target.is_relative_to(REPO) else target}"
    if fragment and target.suffix == ".md" and fragment not in anchors(target.read_text()):
        return f"{link}: {target.name} has no heading with the anchor #{fragment}"
    return None


ALL_LINKS = [link for page in docs_pages.every_page() for link in links(page, page.read_text())]


def test_the_pages_link_to_each_other() -> None:
    assert len(ALL_LINKS) >= 30, [str(link) for link in ALL_LINKS]
    assert {Path(link.target.partition("#")[0]).name for link in ALL_LINKS} >= {"README.md", "api.md", "deploy.md"}


@pytest.mark.parametrize("page", docs_pages.every_page(), ids=docs_pages.name)
def test_every_relative_link_resolves_to_a_file_and_heading(page: Path) -> None:
    broken = [found for link in ALL_LINKS if link.page == page and (found := problem(link))]
    assert broken == []


def test_the_readme_links_every_docs_page() -> None:
    readme = docs_pages.README
    linked = {(readme.parent / link.target.partition("#")[0]).resolve() for link in links(readme, readme.read_text())}
    missing = [docs_pages.name(page) for page in docs_pages.every_page()[1:] if page not in linked]
    assert missing == []


@pytest.mark.parametrize("page", docs_pages.pages()[1:], ids=docs_pages.name)
def test_each_docs_page_opens_with_its_title_one_line_on_what_it_holds_and_the_way_back(page: Path) -> None:
    title, blank, holds, after = page.read_text().splitlines()[:4]
    assert title.startswith("# ")
    assert (blank, after) == ("", "")
    assert "](../README.md)" in holds


def test_slugs_and_anchors_follow_githubs_rules() -> None:
    assert slug("Sample events and `sam local invoke`") == "sample-events-and-sam-local-invoke"
    assert slug("Which tool proves what (no Docker engine, no AWS account here)") == (
        "which-tool-proves-what-no-docker-engine-no-aws-account-here"
    )
    assert slug("Batch scoring: S3 uploads, SQS jobs, schedules") == "batch-scoring-s3-uploads-sqs-jobs-schedules"
    assert slug("CI/CD") == "cicd"
    assert slug("The **[HTTP](x.md)** API_v2 — très") == "the-http-api_v2--très"
    markdown = "# A\n\n## A\n\n```sh\n# not a heading\n```\n\n### A!\n\n## The `sam` CLI\n"
    assert anchors(markdown) == {"a", "a-1", "a-2", "the-sam-cli"}


def test_the_extraction_skips_code_and_external_urls() -> None:
    page = REPO / "docs" / "x.md"
    markdown = "\n".join(
        [
            'See [api](api.md#the-http-api), ![pic](pic.png "a title") and [web](https://example.com).',
            "`[not](a-link.md)` in code",
            "```md",
            "[not](either.md)",
            "```",
            "[ref]: ../README.md",
        ]
    )
    assert [(link.line, link.target) for link in links(page, markdown)] == [
        (1, "api.md#the-http-api"),
        (1, "pic.png"),
        (6, "../README.md"),
    ]
    assert problem(Link(page, 1, "nowhere.md")) is not None
