"""GIVEN onnx-lambda serve and invoke WHEN run as a user runs them THEN serve is the real local gateway in
front of the entry point, invoke sends event files through the real entry point and requests to a URL
(signed for IAM or JWT), and answers with an error status, unreachable URLs and bad input are one-line
errors with their exit codes."""

from __future__ import annotations

import json
import socket
import sys
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from onnx_lambda.gateway_process import spawn_gateway
from tests.testkit.cli import CONSOLE_SCRIPT, one_error_line, run_cli, serve
from tests.testkit.paths import EVENTS


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def oracle_labels(model: Path, instances: list[Any]) -> list[str]:
    """What onnxruntime alone says for the digits."""
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    x = np.asarray(instances, dtype=np.float32).reshape(-1, 1, 8, 8)
    return [str(label) for label in session.run(["label"], {"input": x})[0]]


def test_serve_answers_through_the_entry_point_until_interrupted(default_model: Path) -> None:
    with serve(str(default_model)) as server:
        health = get_json(server.url + "/health")
        assert (health["ready"], health["model"]["name"]) == (True, "digits-cnn")
        assert health["init"]["initialization_type"] == "local"
    assert server.process.returncode == 0  # Ctrl-C (SIGINT) is a normal stop


# A parent that ignores SIGINT, as a non-interactive shell does for `onnx-lambda serve &`: the child inherits it.
IGNORING_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); os.execv(sys.argv[1], sys.argv[1:])"
)


def test_serve_stops_on_sigint_even_when_started_with_sigint_ignored(default_model: Path) -> None:
    command = [sys.executable, "-c", IGNORING_SIGINT, str(CONSOLE_SCRIPT), "serve", str(default_model), "--port", "0"]
    with spawn_gateway(command=command) as server:
        assert get_json(server.url + "/health")["ready"] is True
    assert server.process.returncode == 0  # not -9: SIGKILL after the stop timeout


def test_serve_with_a_stage_serves_under_its_path(default_model: Path) -> None:
    with serve(str(default_model), "--stage", "prod") as server:
        assert server.url.endswith("/prod")
        assert get_json(server.url + "/v2/health/ready") == {"live": True, "ready": True}


def test_serve_given_a_folder_serves_every_model_in_it(default_model: Path) -> None:
    with serve(str(default_model.parent)) as server:  # models/: digits-cnn.onnx and digits-sklearn.onnx
        names = [entry["name"] for entry in get_json(server.url + "/v2/models")]
    assert names == ["digits-cnn", "digits-sklearn"]


def test_serve_refuses_a_missing_model_and_a_busy_port_in_one_line(tmp_path: Path, default_model: Path) -> None:
    missing = run_cli("serve", str(tmp_path / "absent.onnx"))
    assert (missing.returncode, one_error_line(missing)) == (
        3,
        f"error: {tmp_path / 'absent.onnx'} does not exist: expected an ONNX model, or a folder of them",
    )
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        taken = run_cli("serve", str(default_model), "--port", str(port))
    assert taken.returncode == 3
    assert one_error_line(taken).startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
    assert "listening" not in taken.stdout


def test_invoke_sends_an_event_file_through_the_entry_point(default_model: Path) -> None:
    event_file = EVENTS / "http-api-v2.predict.json"
    result = run_cli("invoke", str(event_file))
    assert (result.returncode, result.stderr) == (0, "")  # the function's logs are shown with --logs only
    response = json.loads(result.stdout)
    assert response["statusCode"] == 200
    predictions = json.loads(response["body"])["predictions"]
    request = json.loads(json.loads(event_file.read_text())["body"])
    assert [p["label"] for p in predictions] == oracle_labels(default_model, request["instances"])
    body = json.loads(run_cli("invoke", str(event_file), "--body").stdout)
    assert body["predictions"] == predictions


def test_invoke_reads_the_event_from_stdin_and_shows_the_functions_logs_on_request() -> None:
    event = (EVENTS / "http-api-v2.health.json").read_text()
    result = run_cli("invoke", "-", "--logs", stdin=event)
    assert result.returncode == 0
    assert json.loads(json.loads(result.stdout)["body"])["ready"] is True
    logs = [json.loads(line) for line in result.stderr.splitlines()]
    assert any(line.get("message") == "model ready" for line in logs)


def test_invoke_of_an_event_answered_with_an_error_status_prints_it_and_exits_6() -> None:
    result = run_cli("invoke", str(EVENTS / "http-api-v2.bad-json.json"))
    assert result.returncode == 6
    assert json.loads(result.stdout)["statusCode"] == 400
    assert one_error_line(result) == "error: the function answered HTTP 400 (--logs shows its logs)"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not JSON: "),
        ("[1, 2]", "is a JSON list; a Lambda event is a JSON object"),
        ('{"hello": "world"}', "unrecognised event"),
    ],
)
def test_invoke_of_a_bad_event_is_one_line_exit_3(tmp_path: Path, content: str, expected: str) -> None:
    (tmp_path / "event.json").write_text(content)
    result = run_cli("invoke", str(tmp_path / "event.json"))
    assert result.returncode == 3
    assert expected in one_error_line(result)
    assert result.stdout == ""


def test_invoke_sends_requests_to_a_url_and_prints_the_answer(tmp_path: Path, default_model: Path) -> None:
    instances = np.load(default_model.parent / "digits-test.npz")["X"][:3].tolist()
    (tmp_path / "request.json").write_text(json.dumps({"instances": instances}))
    with serve(str(default_model)) as server:
        health = run_cli("invoke", "--url", server.url, "--path", "/health")
        predict = run_cli(
            "invoke", "--url", server.url, "--path", "/predict", "--data", f"@{tmp_path / 'request.json'}"
        )
        refused = run_cli("invoke", "--url", server.url, "--path", "/predict", "--data", '{"instances": [[1]]}', "-i")
    assert (health.returncode, json.loads(health.stdout)["ready"]) == (0, True)
    assert predict.returncode == 0, predict.stderr
    labels = [p["label"] for p in json.loads(predict.stdout)["predictions"]]
    assert labels == oracle_labels(default_model, instances)
    assert refused.returncode == 6
    assert refused.stdout.startswith("HTTP 400 Bad Request\n")
    assert "expected 'input' with shape [batch, 1, 8, 8]" in json.loads(refused.stdout.split("\n\n", 1)[1])["error"]
    assert one_error_line(refused) == f"error: POST {server.url}/predict answered HTTP 400"


def test_invoke_of_a_url_nothing_listens_on_is_one_line_exit_6() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the request: nothing listens there
    result = run_cli("invoke", "--url", f"http://127.0.0.1:{port}", "--path", "/health", "--timeout", "5")
    assert result.returncode == 6
    assert one_error_line(result).startswith(f"error: cannot reach http://127.0.0.1:{port}/health: ")
