"""GIVEN the same data plane served with the thin path (THIN_PATH, the default) and without it (every request
through Mangum + FastAPI) WHEN each gets the same event: every file in events/, every case of the hostile JSON and
binary batteries (at the root and under a stage), every route the app declares, gzip, base64 and Host variants, the
binary extension both ways, and hypothesis-drawn bodies for the two hot routes THEN the answers are identical:
status, headers and body, byte for byte; and the thin path did serve the hot requests (it is not always falling
back).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handler.contract import LambdaHandler
from handler.dispatch import HTTP_SOURCES, UnsupportedEventError, identify
from handler.http_events import http_api_event
from handler.runtime import build_runtime, http_handler
from handler.settings import settings_from_env
from handler.thin_path import ThinPath
from tests.testkit.aws import BATCH_SETTINGS
from tests.testkit.events import event_files
from tests.testkit.hostile_binary_requests import BINARY_CASES, OCTET_STREAM
from tests.testkit.hostile_requests import CASES
from tests.testkit.refusals import DIGIT, INFER, JSON, LIMITS
from tests.testkit.tensor_strategies import ANY_DATATYPE, ANY_SHAPE, DATA, JSON_VALUES

CONTEXT = None  # the HTTP handlers read nothing of the context


class Pair:
    """The same model served with and without the thin path, counting what the thin path served itself."""

    def __init__(self, env: dict[str, str]) -> None:
        runtime = build_runtime(settings_from_env(env | {"THIN_PATH": "false"}))
        self.app = runtime.http  # one plane for both: its INIT timings are in /health's answer
        thin = http_handler(runtime.plane, settings_from_env(env | {"THIN_PATH": "true"}), "local")
        assert isinstance(thin, ThinPath)
        assert not isinstance(self.app, ThinPath)
        self.fallbacks = 0
        lazy = thin.app

        def counted() -> LambdaHandler:
            self.fallbacks += 1
            return lazy()

        thin.app = counted
        self.thin = thin

    def answers(self, event: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Both answers, asserted identical, and whether the thin path served it."""
        before = self.fallbacks
        thin = self.thin(json.loads(json.dumps(event)), CONTEXT)
        app = self.app(json.loads(json.dumps(event)), CONTEXT)
        assert thin == app, f"thin path {_shown(thin)} != app {_shown(app)}"
        return thin, self.fallbacks == before


def _shown(answer: dict[str, Any]) -> str:
    return json.dumps({**answer, "body": str(answer.get("body"))[:300]})


@pytest.fixture(autouse=True)
def fixed_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer to a request without an id gets a new uuid4: the same one in both paths, to compare bytes."""
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=42))


@pytest.fixture(scope="module")
def pair(default_model: Path) -> Pair:
    return Pair({"MODEL_PATH": str(default_model), "ORT_INTRA_OP_THREADS": "1"})


@pytest.fixture(scope="module")
def limited(default_model: Path) -> Pair:
    return Pair({"MODEL_PATH": str(default_model), "ORT_INTRA_OP_THREADS": "1", **LIMITS})


def _http_event_files() -> list[Path]:
    files = []
    for path in event_files():
        try:
            identify(json.loads(path.read_text()), HTTP_SOURCES)
        except UnsupportedEventError:
            continue
        files.append(path)
    return files


# JSON POSTs to /predict and .../infer from an HTTP API or a Function URL: the thin path's, answers and errors alike.
THIN_FILES = {
    "function-url.infer.json",
    "function-url.predict.json",
    "function-url.wrong-datatype.json",
    "http-api-v2.bad-shape.json",
    "http-api-v2.infer-binary.json",
    "http-api-v2.infer-nested.json",
    "http-api-v2.infer.json",
    "http-api-v2.predict-base64.json",
    "http-api-v2.predict-flat.json",
    "http-api-v2.predict.json",
    "http-api-v2.strings-for-numbers.json",
    "http-api-v2.unknown-input.json",
    "http-api-v2.unknown-version.json",
    "http-api-v2.wrong-datatype.json",
}


@pytest.mark.parametrize("path", _http_event_files(), ids=lambda path: path.name)
def test_every_http_event_file_gets_the_same_answer_and_the_hot_ones_are_served_thin(pair: Pair, path: Path) -> None:
    answer, served_thin = pair.answers(json.loads(path.read_text()))
    assert served_thin is (path.name in THIN_FILES), (path.name, answer["statusCode"])


def _event(path: str, body: bytes, headers: dict[str, str], stage: str = "$default") -> dict[str, Any]:
    target = path if stage == "$default" else f"/{stage}{path}"
    headers = {"content-length": str(len(body)), **headers}
    return http_api_event("POST", target=target, headers=headers, body=body, stage=stage, source_ip="127.0.0.1")


@pytest.mark.parametrize("stage", ["$default", "prod"])
@pytest.mark.parametrize("case", CASES)
def test_every_hostile_json_request_gets_the_same_answer(limited: Pair, case: str, stage: str) -> None:
    path, body, content_type, status, _ = CASES[case]
    answer, _ = limited.answers(_event(path, body, {"content-type": content_type}, stage))
    assert answer["statusCode"] == status


@pytest.mark.parametrize("case", BINARY_CASES)
def test_every_hostile_binary_request_gets_the_same_answer(limited: Pair, case: str) -> None:
    (body, length), status, _ = BINARY_CASES[case]
    headers = {"content-type": OCTET_STREAM, "inference-header-content-length": str(length)}
    answer, _ = limited.answers(_event(INFER, body, headers))
    assert answer["statusCode"] == status


def _route_requests(pair: Pair) -> Iterator[tuple[str, str]]:
    """(method, path) of every route the app's OpenAPI document declares, and /docs and /openapi.json, their
    parameters filled with the served model."""
    event = http_api_event("GET", target="/openapi.json", headers={}, body=b"", stage="$default", source_ip="::1")
    document = json.loads(pair.app(event, CONTEXT)["body"])
    yield from [("GET", "/docs"), ("GET", "/openapi.json")]
    for path, operations in document["paths"].items():
        for method in operations:
            yield method.upper(), path.replace("{model_name}", "digits-cnn").replace("{model_version}", "1")


def test_every_route_gets_the_same_answer_with_and_without_a_body(pair: Pair) -> None:
    infer_body = json.dumps({"inputs": [DIGIT]}).encode()
    served = set()
    for method, path in _route_requests(pair):
        for body in (b"", infer_body, json.dumps({"instances": [[0] * 64]}).encode()):
            headers = {"content-type": JSON, "content-length": str(len(body))}
            event = http_api_event(
                method, target=path, headers=headers, body=body, stage="$default", source_ip="1.2.3.4"
            )
            answer, served_thin = pair.answers(event)
            if served_thin:
                served.add((path, answer["statusCode"]))
    assert {path for path, _ in served} == {"/predict", INFER, "/v2/models/digits-cnn/versions/1/infer"}


DIGITS_ARRAY = np.resize(np.arange(64, dtype=np.float32) % 17, (256, 1, 8, 8))
DIGITS_256 = json.dumps({"instances": [[float(i % 17)] * 64 for i in range(256)]}).encode()
INFER_256 = json.dumps({"id": "big", "inputs": [{**DIGIT, "shape": [256, 1, 8, 8], "data": [1.0] * 256 * 64}]}).encode()


@pytest.mark.parametrize("accept", ["", "gzip", "br, gzip;q=0.5", "deflate"])
@pytest.mark.parametrize(("path", "body"), [("/predict", DIGITS_256), (INFER, INFER_256)], ids=["predict", "infer"])
def test_large_answers_are_gzipped_alike_and_served_thin(pair: Pair, path: str, body: bytes, accept: str) -> None:
    headers = {"content-type": JSON, **({"accept-encoding": accept} if accept else {})}
    answer, served_thin = pair.answers(_event(path, body, headers))
    assert served_thin
    assert answer["statusCode"] == 200
    assert answer["isBase64Encoded"] is ("gzip" in accept)


@pytest.mark.parametrize(
    "variant",
    ["base64 body", "charset", "vendor json", "query string", "cookies", "host with port", "bad host", "no host"],
)
def test_event_variants_get_the_same_answer(pair: Pair, variant: str) -> None:
    event = _event("/predict", json.dumps({"instances": [[1.0] * 64]}).encode(), {"content-type": JSON})
    headers = event["headers"]
    if variant == "base64 body":
        event |= {"body": base64.b64encode(event["body"].encode()).decode(), "isBase64Encoded": True}
    elif variant == "charset":
        headers["content-type"] = "application/json; charset=utf-8"
    elif variant == "vendor json":
        headers["content-type"] = "application/vnd.example+json"
    elif variant == "query string":
        event["rawQueryString"] = "top_k=2"
    elif variant == "cookies":
        event["cookies"] = ["a=b"]
    elif variant == "host with port":
        headers["host"] = "example.com:8443"
    elif variant == "bad host":
        headers["host"] = "a:b:c"
    else:
        headers.pop("host", None)
    pair.answers(event)


BINARY_OUTPUTS = {"inputs": [DIGIT], "parameters": {"binary_data_output": True}}


def test_outputs_asked_for_as_binary_data_are_answered_alike_by_the_thin_path(pair: Pair) -> None:
    answer, served_thin = pair.answers(_event(INFER, json.dumps(BINARY_OUTPUTS).encode(), {"content-type": JSON}))
    assert served_thin
    assert answer["isBase64Encoded"]
    assert "inference-header-content-length" in answer["headers"]


INPUTS = st.fixed_dictionaries(
    {"name": st.sampled_from(["input", "x"]), "shape": ANY_SHAPE, "datatype": ANY_DATATYPE, "data": DATA}
)
INFER_BODIES = st.fixed_dictionaries(
    {"inputs": st.lists(INPUTS, max_size=2)},
    optional={"id": JSON_VALUES, "outputs": JSON_VALUES, "parameters": JSON_VALUES},
)
PREDICT_BODIES = st.fixed_dictionaries({}, optional={"instances": DATA, "inputs": DATA, "top_k": JSON_VALUES})
# The digit request with drawn values: the bodies that validate and reach the data plane, most of them refused there.
NEAR_VALID = st.builds(lambda data: {"inputs": [{**DIGIT, "data": data}]}, DATA) | st.builds(
    lambda rows: {"instances": rows}, DATA
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["/predict", INFER]), body=st.one_of(INFER_BODIES, PREDICT_BODIES, NEAR_VALID, JSON_VALUES))
def test_drawn_bodies_get_the_same_answer_from_both_paths(limited: Pair, path: str, body: Any) -> None:
    try:
        encoded = json.dumps(body).encode()
    except UnicodeEncodeError:
        encoded = json.dumps(body, ensure_ascii=True).encode()
    limited.answers(_event(path, encoded, {"content-type": JSON}))


WEB = ["asyncio", "fastapi", "mangum", "starlette"]
IMPORTED = f"import sys, handler.entrypoint; print(sorted(set({WEB}) & set(sys.modules)))"


@pytest.mark.parametrize(("thin_path", "imported"), [("true", []), ("false", WEB)])
def test_an_api_functions_init_imports_no_web_framework_with_the_thin_path(
    default_model: Path, thin_path: str, imported: list[str]
) -> None:
    """The API function's INIT (no INPUT_BUCKET: a batch function imports the batch code, and asyncio, at INIT)."""
    env = {name: value for name, value in os.environ.items() if name not in BATCH_SETTINGS}
    env |= {"MODEL_PATH": str(default_model), "THIN_PATH": thin_path}
    result = subprocess.run([sys.executable, "-c", IMPORTED], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == str(imported)


def test_binary_requests_and_answers_are_served_thin_alike(pair: Pair) -> None:
    """The binary extension both ways, 256 digits, gzipped when accepted and not."""
    from tests.testkit.binary import binary_request  # noqa: PLC0415

    request = {"inputs": [{"name": "input", "shape": [256, 1, 8, 8], "datatype": "FP32"}]}
    body, length = binary_request(request | {"parameters": {"binary_data_output": True}}, {"input": DIGITS_ARRAY})
    for accept in ("", "gzip"):
        headers = {
            "content-type": OCTET_STREAM,
            "inference-header-content-length": str(length),
            "accept-encoding": accept,
        }
        answer, served_thin = pair.answers(_event(INFER, body, headers))
        assert served_thin
        assert answer["statusCode"] == 200
        assert ("content-encoding" in answer["headers"]) is bool(accept)
