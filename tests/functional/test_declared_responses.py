"""GIVEN the app as the entry point builds it, serving a classifier, a regression model, a generator, an image
classifier, or no model at all WHEN every documented route is called with requests that succeed and requests that
fail THEN every JSON answer validates, strictly and with no field left undocumented, against the model the route
declares for that status: its ``response_model`` for a success, the model in its ``responses`` for an error.

/predict and the infer routes answer through handler.api.fast_json, so FastAPI never checks their answers against
their declared response_model (it would cost every request: see FastJsonResponse); the documented schema is
checked here instead, for every route, whatever serialised its answer."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.routing import Match

from handler.api.app import create_app
from handler.api.schemas import ErrorResponse
from handler.dataplane import DataPlane
from handler.http_events import http_api_event
from handler.lambda_instance import LocalContext
from tests.testkit import onnx_models
from tests.testkit.binary import binary_request
from tests.testkit.invoke import runtime_for, unready_adapter

Adapter = Callable[[dict[str, Any], Any], dict[str, Any]]

DIGIT = {"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32", "data": [0.0] * 64}
THREE = {"name": "input", "shape": [1, 3], "datatype": "FP32"}  # the scaler's input
MODEL = "/v2/models/digits-cnn"
VERSION = MODEL + "/versions/1"
JSON = "application/json"
# Routes FastAPI adds for its own documentation (HTML, or the OpenAPI document itself).
DOCUMENTATION = {"/docs", "/docs/oauth2-redirect", "/openapi.json"}


@dataclass(frozen=True)
class Probe:
    """One request to the app serving ``served`` and the status it must get."""

    served: str
    method: str
    path: str
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.served}: {self.method} {self.path} -> {self.status}"

    def data(self) -> bytes:
        if self.body is None:
            return b""
        return self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()


def _get(served: str, path: str, status: int) -> Probe:
    return Probe(served, "GET", path, status)


def _post(served: str, path: str, body: Any, status: int, **headers: str) -> Probe:
    return Probe(served, "POST", path, status, body, headers)


BINARY, BINARY_LENGTH = binary_request({"inputs": [DIGIT]}, {"input": np.zeros((1, 1, 8, 8), np.float32)})
LENGTH = "Inference-Header-Content-Length"
METADATA_ROUTES = ["", "/ready", "/stats", "/config"]
PROBES = [
    _get("digits", "/health", 200),
    _get("digits", "/v2", 200),
    _get("digits", "/v2/health/live", 200),
    _get("digits", "/v2/health/ready", 200),
    _get("digits", "/v2/models", 200),
    _post("digits", "/v2/repository/index", {}, 200),
    _get("digits", "/v2/models/stats", 200),
    *(_get("digits", MODEL + route, 200) for route in METADATA_ROUTES),
    *(_get("digits", "/v2/models/nope" + route, 404) for route in METADATA_ROUTES),
    *(_get("digits", VERSION + route, 200) for route in METADATA_ROUTES),
    *(_get("digits", MODEL + "/versions/9" + route, 404) for route in METADATA_ROUTES),
    # The infer routes, through fast_json: successes, and each kind of refusal they declare.
    _post("digits", MODEL + "/infer", {"id": "a", "inputs": [DIGIT]}, 200),
    _post("digits", MODEL + "/infer", {"inputs": [DIGIT], "outputs": [{"name": "label"}]}, 200),
    _post("digits", MODEL + "/infer", BINARY, 200, **{LENGTH: str(BINARY_LENGTH)}),  # binary in, JSON out
    _post("digits", MODEL + "/infer", b"{bad", 400),
    _post("digits", MODEL + "/infer", {"inputs": [{**DIGIT, "shape": [1, 64]}]}, 400),
    _post("digits", MODEL + "/infer", BINARY, 400, **{LENGTH: str(len(BINARY) + 1)}),
    _post("digits", MODEL + "/infer", {"inputs": [{**DIGIT, "shape": "1"}]}, 422),
    _post("digits", "/v2/models/nope/infer", {"inputs": [DIGIT]}, 404),
    _post("digits", MODEL + "/infer", {"inputs": [DIGIT]}, 415, **{"Content-Encoding": "br"}),
    _post("digits", VERSION + "/infer", {"inputs": [DIGIT]}, 200),
    _post("digits", MODEL + "/versions/9/infer", {"inputs": [DIGIT]}, 404),
    _post("digits", VERSION + "/infer", {"inputs": [{**DIGIT, "datatype": "FP64"}]}, 400),
    _post("small", "/v2/models/scaler/infer", {"inputs": [{**DIGIT, "data": [0.0] * 4096}]}, 413),
    _post("small", "/v2/models/scaler/versions/1/infer", {"inputs": [{**DIGIT, "data": [0.0] * 4096}]}, 413),
    _post("small", "/v2/models/scaler/infer", {"inputs": [{**THREE, "data": [1.0] * 4}]}, 400),
    _post("small", "/v2/models/scaler/infer", {"inputs": [{**THREE, "data": [1.0, 2.0, 3.0]}]}, 200),
    # /predict, through fast_json: every form of answer (classifier, top-k, raw outputs, generated text, images).
    _post("digits", "/predict", {"instances": [[0.0] * 64, [1.0] * 64]}, 200),
    _post("digits", "/predict", {"instances": [[0.0] * 64], "top_k": 2}, 200),
    _post("digits", "/predict?top_k=3", {"instances": [[0.0] * 64]}, 200),
    _post("digits", "/predict", {"instances": [[0.0] * 63]}, 400),
    _post("digits", "/predict?top_k=none", {"instances": [[0.0] * 64]}, 400),
    _post("digits", "/predict", {"instance": []}, 422),
    _post("digits", "/predict", b"\x89PNG\r\n\x1a\n", 415, **{"Content-Type": "image/png"}),
    _post("small", "/predict", {"instances": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]}, 200),
    _post("small", "/predict", {"instances": [[0.0] * 3] * 200}, 413),
    # With no model loaded: every route that needs one is a 503, and /health says it is loading.
    _get("unready", "/health", 503),
    _get("unready", "/v2", 200),
    _get("unready", "/v2/health/live", 200),
    _get("unready", "/v2/health/ready", 503),
    _get("unready", "/v2/models", 503),
    _post("unready", "/v2/repository/index", {}, 503),
    _get("unready", "/v2/models/stats", 503),
    *(_get("unready", MODEL + route, 503) for route in METADATA_ROUTES),
    *(_get("unready", VERSION + route, 503) for route in METADATA_ROUTES),
    _post("unready", MODEL + "/infer", {"inputs": [DIGIT]}, 503),
    _post("unready", VERSION + "/infer", {"inputs": [DIGIT]}, 503),
    _post("unready", "/predict", {"instances": [[0.0] * 64]}, 503),
]
# Served by models trained with torch (the session's fixtures), so only in these tests' slow part.
TRAINED = [
    _post("names", "/predict", {"instances": [{"start": "K", "seed": 7}, {"temperature": 0}]}, 200),
    _post("names", "/predict", {"instances": [{"start": "7"}]}, 400),
    _post("shapes", "/predict", "PNG", 200, **{"Content-Type": "image/png"}),
    _post("shapes", "/predict?top_k=2", "multipart", 200, **{"Content-Type": "multipart/form-data; boundary=b"}),
    _post("shapes", "/predict", b"garbage", 400, **{"Content-Type": "multipart/form-data; boundary=b"}),
]


def _routes(app: Any) -> Iterator[APIRoute]:
    """The app's routes in the order Starlette tries them, through the middleware and the included routers."""
    while not isinstance(app, FastAPI):
        app = app.app
    for route in app.routes:
        included = getattr(route, "original_router", None)  # FastAPI 0.165 keeps an included router whole
        yield from (r for r in (included.routes if included else [route]) if isinstance(r, APIRoute))


ROUTES = list(_routes(create_app(DataPlane(), 1024)))
DOCUMENTED = [route for route in ROUTES if route.include_in_schema and route.path not in DOCUMENTATION]


def route_of(method: str, path: str) -> APIRoute:
    """The route Starlette serves ``method path`` with."""
    scope = {"type": "http", "method": method, "path": path.split("?", maxsplit=1)[0], "root_path": ""}
    return next(route for route in ROUTES if route.matches(scope)[0] is Match.FULL)


def declared_model(route: APIRoute, status: int) -> Any:
    """The model the route documents for ``status``: its ``responses`` entry's, else its response_model for its
    success status; None when the route documents no model for it."""
    declared = route.responses.get(status) or route.responses.get(str(status)) or {}
    if "model" in declared:
        return declared["model"]
    if status == (route.status_code or 200):
        return route.response_model
    return None


def answer(adapter: Adapter, probe: Probe) -> tuple[int, str, bytes]:
    """Status, content type and body bytes of the app's answer to the probe, as an HTTP API event."""
    headers = {"host": "test", "content-type": JSON, **{name.lower(): value for name, value in probe.headers.items()}}
    event = http_api_event(
        probe.method, target=probe.path, headers=headers, body=probe.data(), stage="$default", source_ip="1.1.1.1"
    )
    response = adapter(event, LocalContext())
    raw = response.get("body", "")
    body = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
    content_type = {name.lower(): value for name, value in (response.get("headers") or {}).items()}["content-type"]
    return response["statusCode"], content_type, body


def conforms(model: Any, given: Any) -> None:
    """Raises ValidationError unless ``given`` is exactly what ``model`` documents: strictly typed, and no field
    the model leaves out (pydantic would ignore one, but a client reading the document would never expect it)."""
    TypeAdapter(model).validate_python(given, strict=True, extra="forbid")


def check(adapter: Adapter, probe: Probe) -> None:
    status, content_type, body = answer(adapter, probe)
    assert status == probe.status, body[:500]
    assert content_type.startswith(JSON), content_type
    route = route_of(probe.method, probe.path)
    model = declared_model(route, status)
    assert model is not None, f"{route.path} answers {status} but documents no model for it"
    try:
        conforms(model, json.loads(body))
    except ValidationError as exc:
        pytest.fail(f"{route.path}'s {status} answer is not the {model} it documents: {exc}\n{body[:500]!r}")


@pytest.fixture(scope="module")
def adapters(default_model: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Adapter]:
    scaler = onnx_models.scaler(tmp_path_factory.mktemp("declared") / "scaler.onnx", metadata={"model_name": "scaler"})
    return {
        "digits": runtime_for(default_model).http,
        "small": runtime_for(scaler, MAX_BODY_BYTES="2048", MAX_BATCH_SIZE="100").http,
        "unready": unready_adapter(),
    }


@pytest.mark.parametrize("probe", PROBES, ids=lambda probe: probe.name)
def test_every_json_answer_is_the_model_its_route_declares_for_its_status(
    adapters: dict[str, Adapter], probe: Probe
) -> None:
    check(adapters[probe.served], probe)


def _trained_body(probe: Probe) -> Probe:
    from tests.testkit import shapes  # noqa: PLC0415 - PIL and the shapes' drawing, for this part only

    image = shapes.encoded(shapes.draw(3, np.random.default_rng(1)))
    if probe.body == "PNG":
        return Probe(probe.served, probe.method, probe.path, probe.status, image, probe.headers)
    if probe.body == "multipart":
        part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        part += b"Content-Type: image/png\r\n\r\n"
        body = part + image + b"\r\n" + part + image + b"\r\n--b--\r\n"
        return Probe(probe.served, probe.method, probe.path, probe.status, body, probe.headers)
    return probe


TRAINED_ADAPTERS: dict[Path, Adapter] = {}


@pytest.mark.slow
@pytest.mark.parametrize("probe", TRAINED, ids=lambda probe: probe.name)
def test_every_json_answer_of_a_generator_and_an_image_model_is_the_model_its_route_declares(
    request: pytest.FixtureRequest, probe: Probe
) -> None:
    model_path, _ = request.getfixturevalue(f"{probe.served}_model")
    if model_path not in TRAINED_ADAPTERS:
        TRAINED_ADAPTERS[model_path] = runtime_for(model_path).http
    check(TRAINED_ADAPTERS[model_path], _trained_body(probe))


def test_every_documented_route_is_probed_for_a_success_and_each_for_a_failure_when_it_can_fail() -> None:
    probed = [(route_of(probe.method, probe.path), probe.status) for probe in PROBES + TRAINED]
    succeeded = {(method, route.path) for route, status in probed if status < 400 for method in route.methods}
    failed = {(method, route.path) for route, status in probed if status >= 400 for method in route.methods}
    documented = {(method, route.path) for route in DOCUMENTED for method in route.methods}
    assert documented - succeeded == set()
    can_fail = {(method, route.path) for route in DOCUMENTED if route.responses for method in route.methods}
    assert can_fail - failed == set()
    statuses = {(route.path, status) for route, status in probed}
    infer = "/v2/models/{model_name}/infer"
    declared_errors = {status for status in route_of("POST", MODEL + "/infer").responses if int(status) >= 400}
    assert {status for path, status in statuses if path == infer} >= declared_errors


def test_the_check_refuses_what_the_declared_models_do_not_document() -> None:
    predicted = declared_model(route_of("POST", "/predict"), 200)
    good = {"model_name": "m", "model_version": "1", "predictions": [{"label": "7", "score": 0.9}]}
    conforms(predicted, good)
    wrong = [
        {**good, "took_ms": 3},  # a field the document does not name
        {**good, "predictions": [{"label": 7}]},  # a label that is not a string
        {**good, "predictions": [{"label": "7", "note": "x"}]},  # an undocumented field of a prediction
        {"model_name": "m", "predictions": []},  # a required field missing
    ]
    for answer_body in wrong:
        with pytest.raises(ValidationError):
            conforms(predicted, answer_body)
    assert declared_model(route_of("POST", MODEL + "/infer"), 404) is ErrorResponse
    assert declared_model(route_of("GET", "/v2/health/live"), 503) is None
