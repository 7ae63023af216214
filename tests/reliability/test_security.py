"""GIVEN the real entry point serving good and bad requests and jobs, its error answers, and the repository WHEN
they are looked at as an attacker would THEN request bodies stay out of the logs unless LOG_LEVEL=DEBUG, nothing
is written outside /tmp, error bodies carry no trace, path or library version, and nothing secret is in the tree.
(What the image holds and what IAM grants: tests/deploy/test_least_privilege.py.)"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import re
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from handler.http_events import http_api_event
from handler.lambda_instance import LocalContext
from tests.testkit import onnx_models
from tests.testkit.events import event_files, load_event
from tests.testkit.invoke import runtime_for
from tests.testkit.paths import REPO
from tests.testkit.process import json_lines, run_python

SECRET = "sekret-9f3a1c"  # in bad requests and jobs: as a value, a tensor name, a model name, a URI
NUMBER = 13.0371  # every pixel of the good requests: a body quoted in a log line would show it
JOB_ID = "job-id-5e2b"  # the id of a protocol job with no result_uri: its answer, which echoes it, is logged

# --- request bodies and the logs ----------------------------------------------------------------------------

# Every event through the entry point in one process (one INIT); answers go to a file, not to the output searched.
SERVE = textwrap.dedent(
    """
    import json, os, sys
    WRITES, CREATE = [], os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    MUTATE = {"os.mkdir", "os.rename", "os.remove", "os.rmdir", "os.chmod", "os.truncate", "os.symlink", "os.link"}
    def audit(event, args):
        if event == "open" and isinstance(args[0], str):
            mode, flags = args[1], args[2]
            if (mode or "r").strip("rbt") or (mode is None and flags & CREATE):
                WRITES.append(args[0])
        elif event in MUTATE:
            WRITES.append(str(args[0]))
    sys.addaudithook(audit)
    from handler.entrypoint import lambda_handler
    from handler.lambda_instance import LocalContext
    answers = [lambda_handler(event, LocalContext()) for event in json.load(open(sys.argv[1]))]
    json.dump(answers, open(sys.argv[2], "w"))
    print("WRITES " + json.dumps([path for path in WRITES if not path.startswith(("/tmp/", "/dev/", sys.argv[2]))]))
    """
)


def http(method: str, path: str, body: Any = None, raw: bytes | None = None) -> dict[str, Any]:
    """An HTTP API v2 event, as API Gateway would send it."""
    data = raw if raw is not None else json.dumps(body).encode() if body is not None else b""
    headers = {"host": "api.example.com", "content-type": "application/json"}
    return http_api_event(method, target=path, headers=headers, body=data, stage="$default", source_ip="1.1.1.1")


def sqs(*bodies: Any) -> dict[str, Any]:
    """An SQS event of one inference job per body (strings are sent as they are)."""
    record = load_event("sqs.jobs-mixed")["Records"][0]
    return {
        "Records": [
            record | {"messageId": f"job-{n}", "body": body if isinstance(body, str) else json.dumps(body)}
            for n, body in enumerate(bodies)
        ]
    }


def digit_requests() -> list[dict[str, Any]]:
    """Two good requests and five bad ones over HTTP, then one SQS batch of two good jobs and four bad ones."""
    image = [[[NUMBER] * 8] * 8]
    tensor = {"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32", "data": [NUMBER] * 64}
    return [
        http("POST", "/predict", {"instances": [image, image]}),
        http("POST", "/v2/models/digits-cnn/infer", {"id": SECRET, "inputs": [tensor]}),
        http("POST", "/predict", {"instances": SECRET}),
        http("POST", "/predict", raw=b'{"instances": [[1, 2, "' + SECRET.encode()),
        http("POST", "/v2/models/digits-cnn/infer", {"inputs": [tensor | {"name": SECRET}]}),
        http("POST", "/v2/models/digits-cnn/infer", {"inputs": [tensor | {"data": [SECRET] * 64}]}),
        http("POST", f"/v2/models/{SECRET}/infer", {"inputs": [tensor]}),
        sqs(
            {"instances": [image]},
            {"id": JOB_ID, "inputs": [tensor]},
            {"instances": SECRET},
            {"model_name": SECRET, "inputs": [tensor]},
            {"instances": [image], "result_uri": f"s3:/{SECRET}"},
            f'{{"instances": "{SECRET}',
        ),
    ]


def serve(tmp_path: Path, env: dict[str, str]) -> tuple[list[dict[str, Any]], str, list[str]]:
    """The answers, everything printed (stdout and stderr) and the writes outside /tmp of one run of SERVE."""
    events, answers = tmp_path / "events.json", tmp_path / "answers.json"
    events.write_text(json.dumps(digit_requests()))
    quiet = {"LOG_LEVEL": "", "POWERTOOLS_LOG_LEVEL": "", "AWS_LAMBDA_LOG_LEVEL": "", "PYTHONDONTWRITEBYTECODE": "1"}
    result = run_python(SERVE, str(events), str(answers), env=quiet | env)
    assert result.returncode == 0, result.stderr
    writes = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("WRITES "))[7:])
    return json.loads(answers.read_text()), result.stdout + result.stderr, writes


def lines_with(text: str, marker: str) -> list[dict[str, Any]]:
    """Each printed line holding ``marker``: the log record when it is one, else {"line": the raw line}."""
    found = [line for line in text.splitlines() if marker in line]
    return [next(iter(json_lines(line)), {"line": line}) for line in found]


@pytest.mark.parametrize(
    "env",
    [{}, {"POWERTOOLS_LOG_LEVEL": "DEBUG", "POWERTOOLS_LOGGER_LOG_EVENT": "true"}],
    ids=["default", "powertools-switches"],
)
def test_no_request_body_reaches_the_logs_at_the_default_level_whatever_powertools_is_told(
    tmp_path: Path, env: dict[str, str]
) -> None:
    answers, printed, writes = serve(tmp_path, env)

    statuses = [answer.get("statusCode") for answer in answers[:-1]]
    assert statuses == [200, 200, 422, 400, 400, 400, 404]
    assert answers[-1] == {"batchItemFailures": [{"itemIdentifier": f"job-{n}"} for n in range(2, 6)]}
    assert SECRET in json.dumps(answers)  # it reached the app, which quotes it back to the client: not to the log
    assert lines_with(printed, SECRET) == []
    assert lines_with(printed, str(NUMBER)) == []
    # A job without result_uri has nowhere to keep its answer, which repeats the request's id (the protocol's
    # answer does): it is logged at DEBUG only; at INFO a line says the job was answered, without values.
    assert lines_with(printed, JOB_ID) == []
    answered = [r for r in json_lines(printed) if str(r.get("message", "")).startswith("inference job answered")]
    assert answered
    assert {r.get("job") for r in answered} == {"predict", "infer"}
    assert writes == []  # INIT, HTTP and jobs write nothing outside /tmp (Lambda's only writable place)


def test_log_level_debug_is_the_opt_in_that_shows_why_a_job_failed_and_still_never_logs_an_event(
    tmp_path: Path,
) -> None:
    _, printed, _ = serve(tmp_path, {"LOG_LEVEL": "DEBUG"})

    records = lines_with(printed, SECRET)
    assert records, "LOG_LEVEL=DEBUG shows nothing more"
    assert {record.get("message") for record in records} == {"inference job failure detail"}
    assert [record.get("message") for record in lines_with(printed, JOB_ID)] == ["inference job result"]
    assert lines_with(printed, str(NUMBER)) == []  # the handler never logs an event, even at DEBUG


# --- error bodies -------------------------------------------------------------------------------------------

LIBRARIES = ("onnxruntime", "numpy", "pydantic", "pydantic-core", "fastapi", "starlette", "mangum")
LEAKS = (
    "Traceback", 'File "', '.py"', "/work", str(REPO), "/var/task", "site-packages", "onnxruntime_src",
    "errors.pydantic.dev", platform.python_version(), *(importlib.metadata.version(name) for name in LIBRARIES),
    "aws-lambda-powertools " + importlib.metadata.version("aws-lambda-powertools"),
)  # fmt: skip
EXPECTED_ERRORS = 21  # 11 refused event files (HTTP API, REST, ALB, function URL) and the 10 requests below


class ExplodingSession:
    """A session whose run fails in a way no input explains: what the 500 path is for."""

    def run(self, *_: Any) -> list[Any]:
        raise MemoryError("the instance ran out of memory at /var/task/handler/model.py line 1")


def failing_requests(model: Path, tmp_path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(what, answer) for many refused requests and one internal error, through the adapter the entry point builds."""
    small = runtime_for(model, MAX_BODY_BYTES="2048").http
    refusing = runtime_for(onnx_models.gather_by_index(tmp_path / "gather.onnx")).http
    crashing = runtime_for(model)
    crashing.plane.model.session = ExplodingSession()  # type: ignore[union-attr, assignment]
    sent: list[tuple[str, Callable[..., dict[str, Any]], dict[str, Any]]] = [
        (path.name, small, load_event(path.name)) for path in event_files() if "requestContext" in load_event(path.name)
    ]
    sent += [
        ("405", small, http("GET", "/predict")),
        ("405 delete", small, http("DELETE", "/health")),
        ("no route", small, http("GET", "/etc/passwd")),
        ("too large", small, http("POST", "/predict", {"instances": [[1.0, 2.0, 3.0]] * 400})),
        ("not UTF-8", small, http("POST", "/predict", raw=b'{"instances": "\xff\xfe"}')),
        ("nested", small, http("POST", "/predict", raw=b"[" * 1000 + b"]" * 1000)),
        ("empty", small, http("POST", "/predict", raw=b"")),
        ("NaN", small, http("POST", "/predict", raw=b'{"instances": [[NaN, 1, 2]]}')),
        ("index out of range", refusing, http("POST", "/predict", {"instances": [[7]]})),
        ("internal error", crashing.http, http("POST", "/predict", {"instances": [[0.0] * 64]})),
    ]
    return [(what, adapter(event, LocalContext())) for what, adapter, event in sent]


def test_no_error_body_carries_a_trace_a_path_or_a_library_version(default_model: Path, tmp_path: Path) -> None:
    answers = failing_requests(default_model, tmp_path)
    errors = [(what, answer) for what, answer in answers if answer["statusCode"] >= 400]

    assert len(errors) >= EXPECTED_ERRORS, [what for what, _ in errors]
    statuses = [(what, answer["statusCode"]) for what, answer in errors]
    assert ("internal error", 500) in statuses
    assert ("index out of range", 422) in statuses  # the warm-up ran the graph: these values are the client's
    for what, answer in errors:
        assert set(json.loads(answer["body"])) == {"error"}, (what, answer["body"])
        text = json.dumps(answer)  # headers too
        assert [leak for leak in LEAKS if leak in text] == [], (what, text)


# --- secrets in the tree ------------------------------------------------------------------------------------

SECRET_PATTERNS = {
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    "secret given a value": re.compile(
        r"(?i)(?:secret_access_key|session_token|password)[\"']?\s*[:=]\s*[\"']([^\"'$\s{]+)[\"']"
    ),
}
FAKE_VALUES = {"testing"}  # moto's well-known fake credentials (testkit/aws.py, testkit/tools.py)
SECRET_FILES = re.compile(r"(^|/)(\.env(\..*)?|.*\.pem|.*\.key|id_(rsa|ed25519|ecdsa)|credentials)$")


def secrets_in(text: str) -> list[str]:
    """What looks like a real secret in ``text``: the pattern's name and the match."""
    found = []
    for name, pattern in SECRET_PATTERNS.items():
        for match in pattern.finditer(text):
            if not (match.groups() and match[1] in FAKE_VALUES):
                found.append(f"{name}: {match[0]}")
    return found


def test_the_secret_scan_finds_planted_secrets_and_lets_motos_fake_ones_pass() -> None:
    planted = 'key = "AKIA' + "ABCDEFGHIJKLMNOP" + '"\n' + "aws_secret_access_key" + ' = "wJalrXUtnFEMI/K7MDENG"\n'
    assert len(secrets_in(planted + "-----BEGIN RSA " + "PRIVATE KEY-----")) == 3
    assert secrets_in('"AWS_SECRET_ACCESS_KEY": "testing",\nAWS_SESSION_TOKEN="$TOKEN"') == []


def test_no_tracked_or_new_file_holds_a_secret() -> None:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    files = [name for name in listed.stdout.splitlines() if (REPO / name).is_file()]
    assert len(files) > 100, listed.stderr
    assert [name for name in files if SECRET_FILES.search(name)] == []
    found = {}
    for name in files:
        try:
            text = (REPO / name).read_text()
        except UnicodeDecodeError:  # models, data: no text to leak a key through
            continue
        if hits := secrets_in(text):
            found[name] = hits
    assert found == {}
