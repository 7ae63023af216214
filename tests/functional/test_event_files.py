"""GIVEN every file in events/ WHEN fed to the real entry point THEN the whole response is what AWS would
return to the caller: status, content type and body (base64 tensor bytes for the binary extension's
case), with predictions checked against onnxruntime."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import onnxruntime as ort
import pytest

from handler.dispatch import UnsupportedEventError
from handler.lambda_instance import LocalContext
from tests.testkit.event_answers import CASES, HTTP_FILES, check_answer, content_type
from tests.testkit.events import event_files, load_event, response_json


@pytest.fixture(scope="module")
def entry(default_model: Path) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    from handler.entrypoint import lambda_handler  # noqa: PLC0415 - importing it is INIT: it loads the model

    return lambda_handler


@pytest.fixture(scope="module")
def session(default_model: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(default_model), providers=["CPUExecutionProvider"])


def test_every_event_file_has_an_expected_response() -> None:
    cases = {path.name.split(".")[1] for path in HTTP_FILES}
    assert cases <= set(CASES), cases - set(CASES)
    assert len(event_files()) >= 30


@pytest.mark.parametrize("path", HTTP_FILES, ids=lambda path: path.name)
def test_event_file_gets_the_full_expected_response(
    entry: Callable[..., Any], session: ort.InferenceSession, path: Path
) -> None:
    response = entry(load_event(path.name), LocalContext())
    check_answer(path.name, response, session)
    if ".health." in path.name:
        assert response_json(response)["init"]["initialization_type"] == "local"


def test_rest_api_under_a_stage_serves_docs_that_load_the_staged_openapi(entry: Callable[..., Any]) -> None:
    docs = entry(load_event("rest-v1-stage.docs"), LocalContext())
    assert docs["statusCode"] == 200
    assert content_type(docs).startswith("text/html")
    assert "url: '/prod/openapi.json'" in docs["body"]
    spec = response_json(entry(load_event("rest-v1-stage.openapi"), LocalContext()))
    assert spec["servers"] == [{"url": "/prod"}]


def test_an_unsupported_event_fails_the_invocation_naming_the_accepted_kinds(entry: Callable[..., Any]) -> None:
    with pytest.raises(UnsupportedEventError, match=r"unrecognised event .*API Gateway HTTP API \(payload 2.0\)"):
        entry(load_event("unsupported.cognito-trigger"), LocalContext())
