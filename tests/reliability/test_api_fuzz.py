"""schemathesis against the served /openapi.json, through the real entry point: zero 5xx, zero schema breaks.

The bounded form of `make fuzz` (bench/fuzz.py, the same code): a fixed seed and a few examples per operation
and phase. A second test proves the harness reports a 5xx when there is one, so
the zero above cannot come from a run that checked nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.fuzz import DEFAULT_SEED, fuzz, run_schemathesis
from tests.testkit.figures import figure_reporter
from tests.testkit.loopback import serving

EXAMPLES_IN_MAKE_TEST = 8
OPERATIONS = 18  # every route the document declares: /health, /predict and the sixteen /v2 ones (stats, config)


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Callable[[str], None]:
    return figure_reporter(request, "reliability figures")


def test_fuzzing_every_operation_finds_no_server_error_and_no_schema_break(report: Callable[[str], None]) -> None:
    run = fuzz(EXAMPLES_IN_MAKE_TEST, DEFAULT_SEED)

    assert run.failures == [], json.dumps(run.failures, indent=1)
    assert run.errors == [], json.dumps(run.errors, indent=1)
    assert run.exit_code == 0
    assert run.operations == OPERATIONS
    assert run.test_cases > 40 * OPERATIONS  # all four phases ran, not just the examples
    assert set(run.phases.values()) == {"success"}, run.phases
    report(f"API fuzzing: {run.test_cases} requests over {run.operations} operations, 0 failures, 0 5xx")


BROKEN_DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "broken", "version": "1"},
    "paths": {"/boom": {"get": {"responses": {"200": {"description": "never"}}}}},
}


class _Broken(BaseHTTPRequestHandler):
    """A one-operation API whose operation fails with 500: what a missed bug looks like to the fuzzer."""

    def do_GET(self) -> None:
        status, body = (200, json.dumps(BROKEN_DOCUMENT)) if self.path == "/openapi.json" else (500, '{"error":"x"}')
        data = body.encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@contextmanager
def _broken_api() -> Iterator[str]:
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _Broken)) as url:
        yield url


def test_the_harness_reports_a_server_error_when_there_is_one() -> None:
    with _broken_api() as url:
        run = run_schemathesis(url, max_examples=2, seed=DEFAULT_SEED)

    assert run.exit_code == 1
    assert run.server_errors >= 1
    assert "ST101" in {failure["code"] for failure in run.failures}
