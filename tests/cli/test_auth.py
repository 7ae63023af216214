"""GIVEN a request to a deployed API WHEN authorised with --auth none, jwt or iam (onnx_lambda.auth, which
the load test shares) THEN it carries nothing, the bearer token, or a SigV4 signature that API Gateway's
check accepts for exactly the method, URL, headers and body that arrived; what is missing is one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from onnx_lambda.auth import AuthError, make_signer, signer_for
from tests.testkit.cli import one_error_line, run_cli
from tests.testkit.loopback import serving
from tests.testkit.sigv4 import aws_env, signature_valid


@dataclass(frozen=True)
class Arrived:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Recorder(ThreadingHTTPServer):
    """A loopback server that records each request and answers 200 with a small JSON body."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), RecordingHandler)
        self.requests: list[Arrived] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class RecordingHandler(BaseHTTPRequestHandler):
    server: Recorder

    def _record(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        self.server.requests.append(Arrived(self.command, self.path, dict(self.headers.items()), body))
        answer = b'{"ok": true}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = _record

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@contextmanager
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    with serving(server):
        yield server


def signature_is_valid(url: str, arrived: Arrived) -> bool:
    """API Gateway's IAM check on what arrived at ``url``."""
    return signature_valid(arrived.method, url + arrived.path, arrived.headers, arrived.body)


def test_iam_signs_the_request_exactly_as_sent_path_and_body_included(tmp_path: Path) -> None:
    body = json.dumps({"instances": [[0.0] * 64]})
    with recorder() as server:
        result = run_cli(
            "invoke", "--url", server.url + "/prod", "--path", "/predict", "--data", body, "--auth", "iam",
            env=aws_env(tmp_path),
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"ok": True}
    (arrived,) = server.requests
    assert (arrived.method, arrived.path, arrived.body) == ("POST", "/prod/predict", body.encode())
    assert signature_is_valid(server.url, arrived)
    tampered = Arrived(arrived.method, arrived.path, arrived.headers, arrived.body + b" ")
    assert not signature_is_valid(server.url, tampered)  # the check can fail


def test_jwt_sends_the_bearer_token_and_none_sends_no_authorization() -> None:
    with recorder() as server:
        jwt = run_cli("invoke", "--url", server.url, "--path", "/v2", "--auth", "jwt", "--token", "tok.en.value")
        plain = run_cli("invoke", "--url", server.url, "--path", "/v2", env={"ONNX_LAMBDA_TOKEN": "unused"})
    assert (jwt.returncode, plain.returncode) == (0, 0)
    first, second = server.requests
    assert first.headers["Authorization"] == "Bearer tok.en.value"
    assert "Authorization" not in second.headers


def test_jwt_takes_the_token_from_the_environment_too() -> None:
    with pytest.raises(AuthError, match="jwt auth needs the bearer token"):
        signer_for("jwt", "https://api.example", None, {})
    from_env = make_signer({"ONNX_LAMBDA_AUTH": "JWT", "ONNX_LAMBDA_TOKEN": "abc"}, "https://api.example")
    assert from_env("GET", "https://api.example/v2", b"", {"a": "b"}) == {"a": "b", "Authorization": "Bearer abc"}


def test_missing_token_credentials_or_region_are_one_line_exit_3(tmp_path: Path) -> None:
    no_token = run_cli("invoke", "--url", "http://127.0.0.1:9", "--auth", "jwt", env={"ONNX_LAMBDA_TOKEN": ""})
    assert (no_token.returncode, one_error_line(no_token)) == (
        3,
        "error: jwt auth needs the bearer token (ONNX_LAMBDA_TOKEN)",
    )
    bare = aws_env(tmp_path) | {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""}
    no_credentials = run_cli("invoke", "--url", "http://127.0.0.1:9", "--auth", "iam", env=bare)
    assert (no_credentials.returncode, one_error_line(no_credentials)) == (
        3,
        "error: iam auth found no AWS credentials in the credential chain",
    )
    no_region = aws_env(tmp_path) | {"AWS_REGION": "", "AWS_DEFAULT_REGION": ""}
    unnamed = run_cli("invoke", "--url", "http://127.0.0.1:9", "--auth", "iam", env=no_region)
    assert (unnamed.returncode, one_error_line(unnamed)) == (
        3,
        "error: iam auth needs AWS_REGION (the host name does not say the region)",
    )


def test_the_region_comes_from_an_execute_api_host_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in (aws_env(tmp_path) | {"AWS_REGION": ""}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    url = "https://abc123.execute-api.ap-south-1.amazonaws.com"
    headers = signer_for("iam", url, None, {})("GET", url + "/health", b"", {})
    assert "/ap-south-1/execute-api/aws4_request" in headers["Authorization"]
