"""GIVEN every example mark of README.md and the docs/ pages (``<!-- example-file: ... -->``, ``<!-- example-run: ...
-->``) WHEN they are compared with the tests that run them THEN each is in a form the extractors read and marks the
code block right below it, each section's files and commands sit on one page, and every section marked is run by
the test named for it here: a mark no test runs, or a test whose section no page marks any more, fails. So no
command a page marks goes untested, wherever the section moves."""

from __future__ import annotations

from collections import defaultdict

from tests.testkit.paths import REPO
from tests.testkit.readme_examples import UNNAMED, example, marks

# Each marked section, and what runs it: a file of the tests and the call in it that runs the section.
RUN_BY: dict[str, list[tuple[str, str]]] = {
    UNNAMED: [("tests/ecosystem/test_readme_examples.py", "examples(page.read_text())")],
    "pipeline": [("tests/ecosystem/test_readme_pipeline.py", 'ran("pipeline", where)')],
    "text": [("tests/ecosystem/test_readme_text.py", 'ran("text", where)')],
    "image": [("tests/ecosystem/test_readme_image.py", 'ran("image", where)')],
    "generator": [("tests/ecosystem/test_readme_generator.py", 'ran("generator", where)')],
    "Run-the-image-anywhere": [
        ("tests/testkit/readme_docker.py", 'SECTION = "Run-the-image-anywhere"'),
        ("tests/deploy/test_container_image.py", "run_section(podman)"),
    ],
}


def test_every_mark_is_one_the_extractors_read_and_marks_the_code_block_below_it() -> None:
    found = marks()
    assert len(found) >= len(RUN_BY)
    assert [f"{mark.page} line {mark.line}: {mark.comment}" for mark in found if not mark.well_formed] == []
    assert [f"{mark.page} line {mark.line}" for mark in found if not mark.before_block] == []


def test_each_section_sits_on_one_page_and_has_commands() -> None:
    pages: dict[str, set[str]] = defaultdict(set)
    for mark in marks():
        pages[mark.section].add(mark.page)
    assert {section: sorted(where) for section, where in pages.items() if len(where) > 1} == {}
    assert {mark.section for mark in marks() if mark.runs} == set(pages)


def test_every_section_marked_is_run_by_its_test_and_every_test_still_finds_its_section() -> None:
    assert {mark.section for mark in marks()} == set(RUN_BY)
    missing = [
        f"{path}: {call}" for runs in RUN_BY.values() for path, call in runs if call not in (REPO / path).read_text()
    ]
    assert missing == []


def test_the_named_extractor_finds_every_file_and_command_block_marked() -> None:
    for section in set(RUN_BY) - {UNNAMED}:
        files = [mark.comment.split()[-2] for mark in marks() if mark.section == section and not mark.runs]
        found = example(section)
        assert list(found.files) == files, section
        assert found.commands, section
