"""GIVEN docs/architecture.md and the code WHEN one infer request is traced through the real entry point and every
module is read THEN the page lists exactly the modules the request crosses, in order, and names every module of
handler/, model_export/ and onnx_lambda/; and handler/ imports nothing of the offline half or the command line."""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from tests.testkit.paths import REPO

PAGE = REPO / "docs" / "architecture.md"
PACKAGES = ("handler", "model_export", "onnx_lambda")
FORBIDDEN_IN_HANDLER = {"model_export", "onnx_lambda", "torch", "sklearn", "skl2onnx", "onnx", "bench", "tests"}
PATH_MARK = re.compile(r"<!-- request-path: (\S+) -->\n(?P<steps>(?:\d+\. .*\n)+)")


def documented_path() -> tuple[str, list[str]]:
    """The event file the page traces and its numbered list of modules (the first `code` of each step)."""
    match = PATH_MARK.search(PAGE.read_text())
    assert match, "docs/architecture.md has no <!-- request-path: EVENT --> list"
    steps = [re.findall(r"`([\w/.]+\.py)`", line)[0] for line in match.group("steps").splitlines()]
    return match.group(1), steps


def traced_path(event_file: str) -> tuple[int, list[str]]:
    """The repository's modules whose functions one warm request calls, in first-call order, and its status."""
    from handler.entrypoint import lambda_handler  # noqa: PLC0415 - INIT, with the suite's default model
    from handler.lambda_instance import LocalContext  # noqa: PLC0415

    event = json.loads((REPO / event_file).read_text())
    lambda_handler(event, LocalContext())  # warm: what a second request crosses is the path
    context = LocalContext()  # the test's, as Lambda's own context object is: its module is left out of the trace
    seen: list[str] = []

    def record(frame: FrameType, what: str, arg: Any) -> None:
        path = Path(frame.f_code.co_filename)
        if what == "call" and path.is_relative_to(REPO / "handler") and path.name != "lambda_instance.py":
            name = path.relative_to(REPO).as_posix()
            if name not in seen:
                seen.append(name)

    sys.setprofile(record)
    try:
        answer = lambda_handler(event, context)
    finally:
        sys.setprofile(None)
    return answer["statusCode"], seen


def test_the_page_lists_the_modules_an_infer_request_crosses_in_order() -> None:
    event_file, documented = documented_path()
    status, traced = traced_path(event_file)
    assert status == 200
    assert documented == traced


def test_the_page_names_every_module_of_the_three_packages() -> None:
    text = PAGE.read_text()
    modules = [path for package in PACKAGES for path in sorted((REPO / package).rglob("*.py"))]
    named = {path.relative_to(REPO).as_posix() for path in modules if path.name in ("__init__.py", "__main__.py")}
    missing = [
        path.relative_to(REPO).as_posix()
        for path in modules
        if path.relative_to(REPO).as_posix() not in named and f"`{path.stem}`" not in text
    ]
    assert missing == []


def imported_roots(path: Path) -> set[str]:
    """The top-level package of every import in ``path``, at module level or inside a function."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_handler_imports_nothing_of_the_offline_half_the_command_line_or_the_tests() -> None:
    offending = {
        path.relative_to(REPO).as_posix(): sorted(imported_roots(path) & FORBIDDEN_IN_HANDLER)
        for path in sorted((REPO / "handler").rglob("*.py"))
        if imported_roots(path) & FORBIDDEN_IN_HANDLER
    }
    assert offending == {}
    assert imported_roots(Path(__file__)) >= {"ast", "json"}  # the reader sees imports when there are some


def test_the_contract_imports_the_standard_library_alone() -> None:
    roots = imported_roots(REPO / "handler" / "contract.py") - {"onnxruntime"}  # inside session_options only
    assert roots <= set(sys.stdlib_module_names) | {"__future__"}, roots
