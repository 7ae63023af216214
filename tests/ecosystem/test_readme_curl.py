"""GIVEN the curl command lines of README.md and the docs/ pages (testkit.docs_pages), read from their code blocks as
a user copies them WHEN each runs against the real local server THEN it exits 0 and prints JSON with the fields the
page promises, and its predictions are onnxruntime's own.

The substitution is strict: only the base URL is replaced, and only the one the pages use for `make serve`
(localhost:8080). A command for the deployed, authenticated API is skipped by name from DEPLOYED_ONLY, never
silently; a command with any other host, or a curl option this test does not know, fails.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from tests.testkit import docs_pages
from tests.testkit.readme_examples import RUN_MARK
from tests.testkit.server import LocalServer

Oracle = Callable[[np.ndarray], dict[str, np.ndarray]]

# The base URL `make serve` listens on, as the pages write it (with or without a scheme).
LOCAL = re.compile(r"^(?:http://)?(?:localhost|127\.0\.0\.1):8080(?P<path>/\S*)?$")
# Documented commands for a deployed stack: they need its URL and AWS credentials, so they cannot run here.
DEPLOYED_ONLY = {"${API}predict": "the deployed HTTP API with IAM auth: needs a stack and SigV4 credentials"}
# curl's options as the pages use them; anything else fails the test until it is added here on purpose.
TAKES_VALUE = {"-H", "--header", "-d", "--data", "--data-raw", "--data-binary", "-X", "--request"}
TAKES_VALUE |= {"-u", "--user", "--aws-sigv4", "-o", "--output", "-w", "--write-out", "--json"}
FLAGS = {"-s", "--silent", "-S", "--show-error", "-f", "--fail", "--fail-with-body", "-i", "--include", "-v"}
# What each served path answers, by the route table of docs/api.md.
FIELDS = {
    "/health": {"status", "ready", "model", "init"},
    "/predict": {"model_name", "model_version", "predictions"},
    "/v2": {"name", "version", "extensions"},
    "/v2/models/digits-cnn": {"name", "versions", "platform", "inputs", "outputs"},
    "/v2/models/digits-cnn/ready": {"name", "ready"},
    "/v2/models/digits-cnn/infer": {"model_name", "model_version", "id", "outputs"},
}


@dataclass(frozen=True)
class CurlLine:
    """One curl command of a page: where it starts, and its text with continuation lines joined."""

    line: int
    text: str
    page: str = "<markdown>"

    @property
    def where(self) -> str:
        """``docs/api.md line 12``: where a reader finds it."""
        return f"{self.page} line {self.line}"

    @property
    def argv(self) -> list[str]:
        """The words the shell would pass to curl (documented commands use no expansion the local ones need)."""
        return shlex.split(self.text.replace("\\\n", " "))

    def url(self) -> str:
        """The one URL among curl's arguments; fails on an option this test does not know."""
        urls: list[str] = []
        words = iter(self.argv[1:])
        for word in words:
            if word in TAKES_VALUE:
                next(words)
            elif word.startswith("-"):
                assert word in FLAGS, f"{self.where}: curl option {word!r} is unknown to this test"
            else:
                urls.append(word)
        assert len(urls) == 1, f"{self.where}: expected one URL, found {urls}"
        return urls[0]

    def data(self) -> Any:
        """The JSON body given with -d, or None."""
        argv = self.argv
        return json.loads(argv[argv.index("-d") + 1]) if "-d" in argv else None


# A block a page marks so is run whole against its own model by testkit.readme_examples' users.
EXAMPLE_RUN = RUN_MARK


def curl_lines(markdown: str, page: str = "<markdown>") -> list[CurlLine]:
    """Every command in the Markdown's code blocks that starts with curl, continued while a line ends in a
    backslash or a quote is still open (docs/api.md's multi-line -d '{...}'), except in an example-run block."""
    found: list[CurlLine] = []
    in_block, start, text, previous, skipped = False, 0, "", "", False
    for number, line in enumerate(markdown.splitlines(), start=1):
        if line.lstrip().startswith("```"):
            in_block = not in_block
            skipped = in_block and previous.startswith(EXAMPLE_RUN)
            continue
        previous = line.strip() or previous
        if skipped:
            continue
        if text:
            text += "\n" + line
        elif in_block and line.lstrip().startswith("curl "):
            start, text = number, line.lstrip()
        if text and not _continues(text):
            found.append(CurlLine(start, text, page))
            text = ""
    assert not text, f"{page} line {start}: a curl command is never closed"
    return found


def _continues(text: str) -> bool:
    if text.endswith("\\"):
        return True
    try:
        shlex.split(text.replace("\\\n", " "))
    except ValueError:  # "No closing quotation": the quoted body goes on on the next line
        return True
    return False


CURL_LINES = [line for page in docs_pages.pages() for line in curl_lines(page.read_text(), docs_pages.name(page))]


def local_path(command: CurlLine) -> str | None:
    """The path a local command asks for, or None when its URL is not the pages' local base."""
    match = LOCAL.fullmatch(command.url())
    return (match["path"] or "/") if match else None


def test_readme_curl_lines_are_all_local_or_listed_as_deployed_only() -> None:
    local = [path for path in map(local_path, CURL_LINES) if path is not None]
    deployed = [c for c in CURL_LINES if local_path(c) is None]
    assert len(local) >= 6, [c.text for c in CURL_LINES]
    assert set(local) <= set(FIELDS), set(local) - set(FIELDS)
    # Every other one is named in DEPLOYED_ONLY, signs its request, and every name there is still on a page.
    assert sorted(c.url() for c in deployed) == sorted(DEPLOYED_ONLY)
    assert all("--aws-sigv4" in c.argv for c in deployed)


@pytest.mark.parametrize("command", CURL_LINES, ids=lambda c: f"{c.page}-line-{c.line}")
def test_readme_curl_line_runs_against_the_local_server(
    command: CurlLine, server: LocalServer, curl: str, oracle: Oracle
) -> None:
    url = command.url()
    if url in DEPLOYED_ONLY:
        pytest.skip(f"{command.where} ({url}): {DEPLOYED_ONLY[url]}")
    path = local_path(command)
    assert path, f"{command.where}: the host of {url!r} is neither localhost:8080 nor in DEPLOYED_ONLY"
    argv = [curl if word == "curl" else server.url + path if word == url else word for word in command.argv]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert "error" not in body, body
    assert FIELDS[path] <= set(body), f"{path} answered {sorted(body)}"
    check_values(path, body, command.data(), oracle)


def check_values(path: str, body: dict[str, Any], request: Any, oracle: Oracle) -> None:
    """The answer's values: ready where readiness is asked, onnxruntime's labels where a digit is sent."""
    if path in ("/health", "/v2/models/digits-cnn/ready"):
        assert body["ready"] is True
    if path == "/predict":
        expected = oracle(np.asarray(request["instances"], dtype=np.float32).reshape(-1, 1, 8, 8))["label"]
        assert [p["label"] for p in body["predictions"]] == [str(label) for label in expected]
    if path == "/v2/models/digits-cnn/infer":
        tensor = request["inputs"][0]
        expected = oracle(np.asarray(tensor["data"], dtype=np.float32).reshape(tensor["shape"]))["label"]
        assert body["id"] == request["id"]
        assert [o["name"] for o in body["outputs"]] == [o["name"] for o in request["outputs"]] == ["label"]
        assert body["outputs"][0]["data"] == expected.tolist()


def test_the_extraction_refuses_unknown_hosts_and_options_and_skips_prose() -> None:
    markdown = "\n".join(
        [
            "curl -s localhost:8080/v2 in prose is no command",
            "```sh",
            "# a comment",
            "curl -s https://example.com/v2",
            "curl --insecure localhost:8080/v2",
            "curl -s localhost:8080/predict \\",
            "  -d '{",
            '"instances": []}\'',
            "```",
        ]
    )
    unknown_host, unknown_option, continued = curl_lines(markdown)
    assert (unknown_host.line, local_path(unknown_host)) == (4, None)
    assert unknown_host.url() not in DEPLOYED_ONLY
    with pytest.raises(AssertionError, match="curl option '--insecure' is unknown"):
        unknown_option.url()
    assert (continued.line, local_path(continued), continued.data()) == (6, "/predict", {"instances": []})
