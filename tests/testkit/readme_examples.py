"""The documentation's worked examples, run as a newcomer runs them: files copied into an empty folder, commands run
there.

README.md and the docs/ pages (testkit.docs_pages) mark what to copy with comments GitHub does not show:
``<!-- example-file: SECTION NAME -->`` before a file, ``<!-- example-run: SECTION -->`` before its commands; a
section is found on whichever page holds it. A command ending in ``&`` is a server started in the
background and waited for; only its port is changed (8080 to a free one, everywhere). What each curl printed is
kept for the test to check against the model it trained.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from tests.testkit import docs_pages
from tests.testkit.aws import free_port

RUN_MARK = "<!-- example-run:"
MARK = re.compile(
    r"^<!-- example-(?:file: (?P<file_section>\S+) (?P<name>\S+)|run: (?P<run_section>\S+)) -->\n"
    r"```[a-z]*\n(?P<body>.*?)^```",
    re.M | re.S,
)


# Every mark, well formed or not, and the four forms the extractors read: ``example-file: SECTION NAME`` and
# ``example-run: SECTION`` (run here), and the unnamed ``example-file: NAME`` and ``example-run`` of the export
# examples (run by tests/ecosystem/test_readme_examples.py).
ANY_MARK = re.compile(r"^<!-- example-(?:file|run)\b.*$", re.M)
FORMS = re.compile(
    r"<!-- example-(?:file: (?P<file_section>\S+) \S+|file: \S+|run: (?P<run_section>\S+)|run) -->",
)
UNNAMED = ""


@dataclass(frozen=True)
class Mark:
    """One example mark on a page: where it is, the comment, and whether a code block follows it at once."""

    page: str
    line: int
    comment: str
    before_block: bool

    @property
    def well_formed(self) -> bool:
        """One of the four forms the extractors read (any other is skipped by them, so it would run nothing)."""
        return FORMS.fullmatch(self.comment) is not None

    @property
    def section(self) -> str:
        """The section it belongs to; UNNAMED for the export examples' marks, which name none."""
        found = FORMS.fullmatch(self.comment)
        return (found["file_section"] or found["run_section"] or UNNAMED) if found else self.comment

    @property
    def runs(self) -> bool:
        """A mark of commands (example-run), not of a file to write."""
        return self.comment.startswith("<!-- example-run")


def marks() -> list[Mark]:
    """Every example mark of README.md and the docs/ pages, in page order."""
    found: list[Mark] = []
    for page in docs_pages.pages():
        text = page.read_text()
        for match in ANY_MARK.finditer(text):
            following = text[match.end() + 1 :].split("\n", 1)[0]
            line = text.count("\n", 0, match.start()) + 1
            found.append(Mark(docs_pages.name(page), line, match[0], following.startswith("```")))
    return found


@dataclass
class Example:
    """One section's files and commands, as its page gives them."""

    files: dict[str, str] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)

    def outline(self) -> tuple[list[str], list[list[str]]]:
        """The files' names and each command's first two words: what a test pins before running the section."""
        return list(self.files), [command.split()[:2] for command in self.commands]


@dataclass(frozen=True)
class Printed:
    """A curl the page runs, and what it printed."""

    command: str
    stdout: str

    def argument(self, flag: str) -> str:
        """The value given after ``flag`` (-d, -F, --data-binary)."""
        argv = shlex.split(self.command)
        return argv[argv.index(flag) + 1]


def example(section: str) -> Example:
    """The section's files and commands, in page order (README.md first, then docs/ by name)."""
    found = Example()
    for match in (match for page in docs_pages.pages() for match in MARK.finditer(page.read_text())):
        if match["file_section"] == section:
            found.files[match["name"]] = match["body"]
        elif match["run_section"] == section:
            found.commands += [line.strip() for line in match["body"].splitlines() if line.strip()]
    return found


@contextmanager
def ran(section: str, where: Path, timeout_s: float = 300) -> Iterator[list[Printed]]:
    """Run the section in ``where`` (servers stopped on exit); yields what each curl printed."""
    found = example(section)
    for name, text in found.files.items():
        (where / name).write_text(text)
    port = str(free_port())
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"], "PYTHONPATH": ""}
    servers: list[subprocess.Popen[bytes]] = []
    printed: list[Printed] = []
    try:
        for command in (line.replace("8080", port) for line in found.commands):
            if command.endswith("&"):
                servers.append(subprocess.Popen(shlex.split(command[:-1]), cwd=where, env=env))
                wait_ready(f"http://127.0.0.1:{port}/health")
                continue
            done = subprocess.run(
                ["bash", "-c", command],
                cwd=where,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
            failed = f"documented command failed: {command}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
            assert done.returncode == 0, failed
            if command.startswith("curl"):
                printed.append(Printed(command, done.stdout))
        yield printed
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)


def wait_ready(url: str, timeout_s: float = 90.0) -> None:
    """Until ``url`` answers 200 (a server the page started in the background)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the documented server never became ready at {url}")


def load_module(path: Path) -> ModuleType:
    """A Python file the page had the newcomer write, imported as the test's own module."""
    spec = importlib.util.spec_from_file_location(f"readme_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
