"""GIVEN `python -m bench.load` (`make load`) WHEN it runs briefly THEN every endpoint is served with zero
failures against the local gateway; a server that answers 200 with the wrong labels fails the run, request by
request; and IAM runs send SigV4 signatures that match the bytes, URL (stage included) and headers sent.

The runs are short and small: they check that the load test works and judges answers, not how fast the
server is (a busy 2-core machine's figures from 8 seconds mean nothing).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import onnx
import pytest
from onnx import TensorProto, helper

from onnx_lambda.gateway_process import spawn_gateway
from tests.testkit.loopback import serving
from tests.testkit.paths import REPO
from tests.testkit.sigv4 import aws_env, signature_valid

HEALTH = "GET /health"
INFERENCE = [
    "POST /predict (1 digit)",
    "POST /predict (8 digits)",
    "POST /v2/models/{model}/infer JSON (1 digit)",
    "POST /v2/models/{model}/infer binary (8 digits)",
]
AGGREGATED = "Aggregated"


@dataclass(frozen=True)
class Row:
    requests: int
    failures: int
    rps: float


def run_load(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m bench.load ARGS` in a fresh process, as `make load` runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bench.load", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def report_rows(report: Path) -> dict[str, Row]:
    """The table of load.md by endpoint name (the Aggregated row under its bare name)."""
    rows = {}
    for match in re.finditer(
        r"^\| (?:`([^`]+)`|\*\*(Aggregated)\*\*) \| (\d+) \| (\d+) \| ([0-9.]+) \|", report.read_text(), re.M
    ):
        rows[match[1] or match[2]] = Row(int(match[3]), int(match[4]), float(match[5]))
    return rows


@pytest.mark.slow
def test_a_short_run_serves_every_endpoint_without_a_failure(tmp_path: Path, default_model: Path) -> None:
    result = run_load("--users", "5", "--spawn-rate", "5", "--duration", "8", "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    rows = report_rows(tmp_path / "load.md")
    assert set(rows) == {HEALTH, *INFERENCE, AGGREGATED}
    for name, row in rows.items():
        assert row.requests > 0, name
        assert row.failures == 0, name
        assert row.rps > 0, name
    assert rows[AGGREGATED].requests == sum(row.requests for name, row in rows.items() if name != AGGREGATED)
    assert "## Problems" not in (tmp_path / "load.md").read_text()


def shifted_model(source: Path, path: Path) -> Path:
    """The digits model with every answer moved to the next class: same signature, metadata and confidence,
    so it is served and answered like the real one, only wrong (a label and the argmax of probabilities)."""
    model = onnx.load(source)
    graph = model.graph
    # The label is the class name looked up from label_index (model_export.graph_edit.label_names): shift the index.
    renamed = {"label_index": "label_right", "probabilities": "probabilities_right"}
    for node in graph.node:
        node.output[:] = [renamed.get(name, name) for name in node.output]
        if node.op_type != "Gather" or node.output[0] != "label":
            node.input[:] = [renamed.get(name, name) for name in node.input]
    graph.initializer.extend(
        [
            helper.make_tensor("shift_columns", TensorProto.INT64, [10], [(index - 1) % 10 for index in range(10)]),
            helper.make_tensor("one", TensorProto.INT64, [], [1]),
            helper.make_tensor("ten", TensorProto.INT64, [], [10]),
        ]
    )
    lookup = next(index for index, node in enumerate(graph.node) if list(node.output) == ["label"])
    shifted = [
        helper.make_node("Gather", ["probabilities_right", "shift_columns"], ["probabilities"], axis=1),
        helper.make_node("Add", ["label_right", "one"], ["label_next"]),
        helper.make_node("Mod", ["label_next", "ten"], ["label_index"]),
    ]
    for offset, node in enumerate(shifted):  # before the name lookup, which reads the shifted index
        graph.node.insert(lookup + offset, node)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)
    return path


@pytest.mark.slow
def test_wrong_labels_are_counted_as_failures_and_fail_the_run(tmp_path: Path, default_model: Path) -> None:
    model = shifted_model(default_model, tmp_path / "digits-shifted.onnx")
    with spawn_gateway(env={"MODEL_PATH": str(model), "MODEL_NAME": "digits-shifted"}) as gateway:
        args = ["--host", gateway.url, "--users", "3", "--spawn-rate", "3", "--duration", "4", "--out", str(tmp_path)]
        result = run_load(*args)
    assert result.returncode == 1, result.stdout + result.stderr
    rows = report_rows(tmp_path / "load.md")
    assert rows[HEALTH].requests > 0
    assert rows[HEALTH].failures == 0  # served, ready, and the name it started with: nothing wrong there
    for name in INFERENCE:
        assert rows[name].requests > 0, name
        assert rows[name].failures == rows[name].requests, name
    problems = (tmp_path / "load.md").read_text().split("## Problems", 1)[1]
    for name in INFERENCE:  # one line per endpoint and count of wrong labels, not one per request
        assert re.search(
            rf"^- request failure: \d+ x {re.escape(name)} WrongAnswer: \d of \d labels differ", problems, re.M
        )


class SigV4Checker(ThreadingHTTPServer):
    """A loopback proxy playing API Gateway's IAM check: each request's signature is recomputed from what
    arrived (method, path with the stage, signed headers, body) and counted, then forwarded to the gateway."""

    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), SigV4Handler)
        self.upstream = upstream
        self.verdicts: list[tuple[str, bool]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        """This proxy's base URL."""
        return f"http://127.0.0.1:{self.server_address[1]}"


class SigV4Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SigV4Checker

    def _proxy(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        valid = signature_valid(self.command, self.server.url + self.path, dict(self.headers.items()), body)
        with self.server.lock:
            self.server.verdicts.append((f"{self.command} {self.path}", valid))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host", "connection", "authorization"}}
        request = urllib.request.Request(self.server.upstream + self.path, body or None, headers, method=self.command)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, reply, data = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, reply, data = error.code, error.headers, error.read()
        self.send_response(status)
        for key in ("content-type", "inference-header-content-length"):
            if reply.get(key):
                self.send_header(key, reply[key])
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _proxy

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@contextmanager
def sigv4_checker(upstream: str) -> Iterator[SigV4Checker]:
    """The checking proxy in a thread for the block."""
    server = SigV4Checker(upstream)
    with serving(server):
        yield server


@pytest.mark.slow
def test_iam_runs_sign_every_request_as_sent_stage_path_included(tmp_path: Path, default_model: Path) -> None:
    env = {"ONNX_LAMBDA_AUTH": "iam", **aws_env(tmp_path)}
    with spawn_gateway("--stage", "prod") as gateway, sigv4_checker(gateway.url.removesuffix("/prod")) as proxy:
        args = ["--host", proxy.url + "/prod", "--users", "2", "--spawn-rate", "2", "--duration", "3"]
        result = run_load(*args, "--out", str(tmp_path), env=env)
        verdicts = list(proxy.verdicts)
    assert result.returncode == 0, result.stdout + result.stderr
    assert {"GET /prod/health", "GET /prod/v2", "POST /prod/predict"} <= {request for request, _ in verdicts}
    assert [request for request, valid in verdicts if not valid] == []
    assert set(report_rows(tmp_path / "load.md")) == {HEALTH, *INFERENCE, AGGREGATED}
