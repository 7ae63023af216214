"""GIVEN the image's HEALTHCHECK (handler.healthcheck) WHEN it looks at PID 1 and probes the loopback port THEN in HTTP
mode it is healthy only while /health answers 200, in Lambda mode while the emulator's port takes connections, and
it never imports the handler (it runs every interval); the Dockerfile runs exactly it."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from handler import healthcheck
from tests.testkit.http_host import free_port
from tests.testkit.loopback import serving
from tests.testkit.paths import REPO
from tests.testkit.template import dockerfile_instructions


class Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/health" else 404)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def health_port() -> Iterator[int]:
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Health)) as url:
        yield int(url.rsplit(":", 1)[1])


def test_pid_1_tells_the_mode() -> None:
    assert healthcheck.serving_mode(b"python\0-m\0handler.http_host\0") == "http"
    assert healthcheck.serving_mode(b"/usr/local/bin/aws-lambda-rie\0/var/runtime/bootstrap\0") == "lambda"


def test_http_mode_is_healthy_only_while_health_answers_200(health_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    assert healthcheck.healthy("http", health_port)
    monkeypatch.setattr(Health, "status", 503)
    assert not healthcheck.healthy("http", health_port)
    assert not healthcheck.healthy("http", free_port())  # nothing listening


def test_lambda_mode_is_healthy_while_the_emulators_port_takes_connections() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert healthcheck.healthy("lambda", listener.getsockname()[1])
    assert not healthcheck.healthy("lambda", free_port())


def test_the_check_imports_nothing_of_the_handler_and_the_dockerfile_runs_it() -> None:
    script = "import sys, handler.healthcheck; print(sorted(m for m in sys.modules if m.startswith('handler.')))"
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['handler.healthcheck']"
    [check] = [args for keyword, args in dockerfile_instructions() if keyword == "HEALTHCHECK"]
    assert check.endswith('CMD ["python", "-m", "handler.healthcheck"]')
