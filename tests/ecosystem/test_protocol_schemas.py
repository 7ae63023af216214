"""GIVEN the real local server (the Lambda entry point behind the API Gateway emulation) and the app with no model
loaded WHEN every route is called the ways a client calls it, successes and failures THEN every answer conforms to
the schema this project's tests wrote from the Open Inference Protocol's REST specification (or Triton's extension
documents, for its extensions; this project's own OpenAPI document for /predict and /health), every failure is the
protocol's error object, and every route of the app is among those called.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from handler.api.app import create_app
from handler.dataplane import DataPlane
from handler.protocol_extensions import REFUSED, SERVED
from tests.testkit import docs_pages
from tests.testkit import oip_schemas as oip
from tests.testkit.binary import binary_request
from tests.testkit.invoke import caller, unready_adapter
from tests.testkit.server import LocalServer

DIGIT = {"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32", "data": [0.0] * 64}
TWO_DIGITS = {**DIGIT, "shape": [2, 1, 8, 8], "data": [[[[1.0] * 8] * 8]] * 2}
MODEL = "/v2/models/digits-cnn"
VERSION = MODEL + "/versions/1"
# This project's own routes, checked against its served OpenAPI document's component of that name.
OWN = {"/predict": "PredictResponse", "/health": "Health"}


@dataclass(frozen=True)
class Probe:
    """One request, the route it exercises (its template, as the app declares it) and what must come back."""

    route: str
    method: str
    path: str
    status: int
    schema: oip.Schema | str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"

    def data(self) -> bytes | None:
        if self.body is None or isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


def _get(route: str, status: int, schema: oip.Schema | str, path: str | None = None) -> Probe:
    return Probe(route, "GET", path or route, status, schema)


def _post(
    route: str, body: Any, status: int, schema: oip.Schema | str, path: str | None = None, **headers: str
) -> Probe:
    return Probe(route, "POST", path or route, status, schema, body, headers)


BINARY, BINARY_LENGTH = binary_request(
    {"inputs": [DIGIT], "outputs": [{"name": "probabilities", "parameters": {"binary_data": True}}]}, {}
)
M, V = "/v2/models/{model_name}", "/v2/models/{model_name}/versions/{model_version}"
PROBES = [
    _get("/v2", 200, oip.SERVER_METADATA),
    _get("/v2", 200, oip.SERVER_METADATA, "/v2/"),
    _get("/v2/health/live", 200, oip.SERVER_LIVE),
    _get("/v2/health/ready", 200, oip.SERVER_READY),
    _get("/v2/models", 200, oip.REPOSITORY_INDEX),
    _post("/v2/repository/index", {}, 200, oip.REPOSITORY_INDEX),
    _post("/v2/repository/index", {"ready": True}, 200, oip.REPOSITORY_INDEX),
    _get(M, 200, oip.MODEL_METADATA, MODEL),
    _get(M, 404, oip.ERROR, "/v2/models/nope"),
    _get(V, 200, oip.MODEL_METADATA, VERSION),
    _get(V, 404, oip.ERROR, MODEL + "/versions/9"),
    _get(M + "/ready", 200, oip.MODEL_READY, MODEL + "/ready"),
    _get(M + "/ready", 404, oip.ERROR, "/v2/models/nope/ready"),
    _get(V + "/ready", 200, oip.MODEL_READY, VERSION + "/ready"),
    _get(V + "/ready", 404, oip.ERROR, MODEL + "/versions/9/ready"),
    _post(M + "/infer", {"id": "a", "inputs": [DIGIT]}, 200, oip.INFERENCE_RESPONSE, MODEL + "/infer"),
    _post(
        M + "/infer",
        {"inputs": [TWO_DIGITS], "outputs": [{"name": "label"}]},
        200,
        oip.INFERENCE_RESPONSE,
        MODEL + "/infer",
    ),
    _post(
        M + "/infer",
        BINARY,
        200,
        oip.BINARY_INFERENCE_RESPONSE,
        MODEL + "/infer",
        **{"Inference-Header-Content-Length": str(BINARY_LENGTH)},
    ),
    _post(
        M + "/infer",
        gzip.compress(json.dumps({"inputs": [DIGIT]}).encode()),
        200,
        oip.INFERENCE_RESPONSE,
        MODEL + "/infer",
        **{"Content-Encoding": "gzip"},
    ),
    _post(M + "/infer", b"{bad", 400, oip.ERROR, MODEL + "/infer"),
    _post(M + "/infer", {"inputs": [{**DIGIT, "shape": [1, 64]}]}, 400, oip.ERROR, MODEL + "/infer"),
    _post(M + "/infer", {"inputs": [{**DIGIT, "shape": "1"}]}, 422, oip.ERROR, MODEL + "/infer"),
    _post(
        M + "/infer",
        {"inputs": [DIGIT], "outputs": [{"name": "label", "parameters": {"classification": 2}}]},
        400,
        oip.ERROR,
        MODEL + "/infer",
    ),
    _post(
        M + "/infer",
        {"inputs": [DIGIT], "parameters": {"sequence_id": 7, "sequence_start": True}},
        400,
        oip.ERROR,
        MODEL + "/infer",
    ),
    _post(
        M + "/infer",
        {"inputs": [{**DIGIT, "parameters": {"shared_memory_region": "r", "shared_memory_byte_size": 256}}]},
        422,
        oip.ERROR,
        MODEL + "/infer",
    ),
    _post(M + "/infer", {"inputs": [DIGIT]}, 404, oip.ERROR, "/v2/models/nope/infer"),
    _post(
        M + "/infer", gzip.compress(b" " * 7_000_000), 413, oip.ERROR, MODEL + "/infer", **{"Content-Encoding": "gzip"}
    ),
    _post(V + "/infer", {"inputs": [DIGIT]}, 200, oip.INFERENCE_RESPONSE, VERSION + "/infer"),
    _post(V + "/infer", {"inputs": [DIGIT]}, 404, oip.ERROR, MODEL + "/versions/9/infer"),
    _get("/v2/models/stats", 200, oip.STATISTICS),
    _get(M + "/stats", 200, oip.STATISTICS, MODEL + "/stats"),
    _get(M + "/stats", 404, oip.ERROR, "/v2/models/nope/stats"),
    _get(V + "/stats", 200, oip.STATISTICS, VERSION + "/stats"),
    _get(V + "/stats", 404, oip.ERROR, MODEL + "/versions/9/stats"),
    _get(M + "/config", 200, oip.MODEL_CONFIG, MODEL + "/config"),
    _get(M + "/config", 404, oip.ERROR, "/v2/models/nope/config"),
    _get(V + "/config", 200, oip.MODEL_CONFIG, VERSION + "/config"),
    _get(V + "/config", 404, oip.ERROR, MODEL + "/versions/9/config"),
    _post("/v2/repository/models/{model_name}/load", {}, 400, oip.ERROR, "/v2/repository/models/digits-cnn/load"),
    _post("/v2/repository/models/{model_name}/unload", {}, 400, oip.ERROR, "/v2/repository/models/digits-cnn/unload"),
    _get("/v2/{memory}sharedmemory/{path:path}", 400, oip.ERROR, "/v2/systemsharedmemory/status"),
    _post(
        "/v2/{memory}sharedmemory/{path:path}",
        {"key": "k", "offset": 0, "byte_size": 8},
        400,
        oip.ERROR,
        "/v2/cudasharedmemory/region/r/register",
    ),
    _get("/v2/trace/setting", 400, oip.ERROR),
    _get(M + "/trace/setting", 400, oip.ERROR, MODEL + "/trace/setting"),
    _get("/v2/logging", 400, oip.ERROR),
    _post("/v2/trace/setting", {"trace_level": ["TIMESTAMPS"]}, 400, oip.ERROR),
    _post(M + "/trace/setting", {"trace_rate": "1"}, 400, oip.ERROR, MODEL + "/trace/setting"),
    _post("/v2/logging", {"log_verbose_level": 1}, 400, oip.ERROR),
    _post("/predict", {"instances": [[0.0] * 64]}, 200, OWN["/predict"]),
    _post("/predict", {"instances": [[0.0] * 63]}, 400, oip.ERROR),
    _post("/predict", {"instance": []}, 422, oip.ERROR),
    _post("/predict", b"\x89PNG\r\n\x1a\n", 415, oip.ERROR, **{"Content-Type": "image/png"}),
    _get("/health", 200, OWN["/health"]),
    _get("/v2/models/nope/nowhere", 404, oip.ERROR),
    Probe("/v2", "DELETE", "/v2", 405, oip.ERROR),
]
# Routes FastAPI adds for its own documentation: HTML, or the OpenAPI document (checked in test_swagger_ui).
DOCUMENTATION = {"/docs", "/docs/oauth2-redirect", "/openapi.json"}


@pytest.fixture(scope="module")
def openapi(server: LocalServer) -> dict[str, Any]:
    document: dict[str, Any] = server.request("GET", "/openapi.json").json()
    return document


def answer_json(reply_body: bytes, headers: dict[str, str]) -> Any:
    """The answer's JSON; only the JSON part of a binary-extension answer."""
    length = {name.lower(): value for name, value in headers.items()}.get("inference-header-content-length")
    return json.loads(reply_body[: int(length)] if length else reply_body)


def schema_of(probe: Probe, openapi: dict[str, Any]) -> oip.Schema:
    """The probe's schema: the protocol's, or a component of this project's OpenAPI document (which is itself a
    JSON Schema 2020-12 resource, so its $refs resolve against the document)."""
    if isinstance(probe.schema, str):
        return {"$ref": f"#/components/schemas/{probe.schema}", "components": openapi["components"]}
    return probe.schema


@pytest.mark.parametrize("probe", PROBES, ids=lambda probe: probe.name)
def test_every_answer_conforms_to_the_protocols_schema(
    probe: Probe, server: LocalServer, openapi: dict[str, Any]
) -> None:
    reply = server.request(probe.method, probe.path, probe.data(), probe.headers)
    assert reply.status == probe.status, reply.body[:500]
    assert reply.headers.get("content-type", "").startswith("application/"), reply.headers
    answer = answer_json(reply.body, reply.headers)
    assert oip.problems(schema_of(probe, openapi), answer) == [], answer
    assert oip.check_tensor_sizes(answer if isinstance(answer, dict) else {}) == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/health/ready"),
        ("GET", MODEL),
        ("GET", "/v2/models/stats"),
        ("GET", MODEL + "/config"),
        ("POST", MODEL + "/infer"),
    ],
)
def test_before_the_model_is_ready_every_answer_is_the_protocols_error(method: str, path: str) -> None:
    status, answer = caller(unready_adapter())(method, path, {"inputs": [DIGIT]} if method == "POST" else None)
    assert status == 503, answer
    assert oip.problems(oip.ERROR, answer) == []


def _routes(app: Any) -> Iterator[APIRoute]:
    while not isinstance(app, FastAPI):
        app = app.app  # through the middleware, to the FastAPI app they wrap
    for route in app.routes:
        # FastAPI 0.165 keeps an included router whole (its routes already carry the prefix).
        included = getattr(route, "original_router", None)
        yield from (r for r in (included.routes if included else [route]) if isinstance(r, APIRoute))


def test_every_route_of_the_app_is_probed_for_success_and_failure() -> None:
    declared = {(method, route.path) for route in _routes(create_app(DataPlane(), 1024)) for method in route.methods}
    probed = {(probe.method, probe.route) for probe in PROBES}
    assert declared - probed - {(m, p) for m, p in declared if p in DOCUMENTATION} == set()
    assert probed - declared <= {("DELETE", "/v2"), ("GET", "/v2/models/nope/nowhere")}
    failing = {probe.route for probe in PROBES if probe.status >= 400}
    with_model = {route for _, route in declared if "{model_name}" in route}
    assert with_model - failing == set(), "every route naming a model is also probed with one that is not served"


def test_the_schemas_refuse_what_the_protocol_does_not_allow() -> None:
    output = {"name": "y", "shape": [2], "datatype": "FP32", "data": [1.0, 2.0]}
    answer = {"model_name": "m", "id": "1", "outputs": [output]}
    assert oip.problems(oip.INFERENCE_RESPONSE, answer) == []
    assert oip.problems(oip.INFERENCE_RESPONSE, {**answer, "id": None}) != []
    assert oip.problems(oip.INFERENCE_RESPONSE, {"model_name": "m", "outputs": [output]}) != []
    assert oip.problems(oip.INFERENCE_RESPONSE, {**answer, "parameters": {"labels": ["a"]}}) != []
    assert oip.problems(oip.RESPONSE_OUTPUT, {**output, "datatype": "FLOAT"}) != []
    assert oip.problems(oip.RESPONSE_OUTPUT, {**output, "data": [{"x": 1}]}) != []
    assert oip.problems(oip.MODEL_METADATA, {"name": "m", "platform": "ONNX", "inputs": [], "outputs": []}) != []
    assert oip.check_tensor_sizes({"outputs": [{**output, "shape": [3]}]}) != []
    assert oip.check_tensor_sizes({"outputs": [{**output, "shape": [1, 2], "data": [[1.0, 2.0]]}]}) == []


def test_the_docs_list_every_extension_served_and_every_one_refused_with_why() -> None:
    page = docs_pages.text_holding("### Protocol coverage")  # docs/api.md today
    section = page.split("### Protocol coverage", 1)[1].split("\n#", 1)[0]
    served, refused = (
        [row.split("|")[1].strip() for row in table.splitlines() if row.startswith("| `")]
        for table in section.split("| extension |")[1:3]
    )
    assert served == [f"`{name}`" for name in SERVED]
    assert all(any(name in row for row in refused) for name in REFUSED), (sorted(REFUSED), refused)
