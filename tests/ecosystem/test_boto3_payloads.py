"""GIVEN the real entry point WHEN boto3-shaped invocation payloads reach it (lambda.invoke with a hand-built HTTP
event: the event and the answer each cross as JSON) THEN it predicts and infers as through HTTP, base64 tensors
come back as base64, and a payload of no served kind, or a half-built HTTP event, fails saying what is wrong."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from handler.dispatch import MalformedEventError, UnsupportedEventError
from handler.lambda_instance import LocalContext
from tests.testkit.binary import binary_request, read_binary

Entry = Callable[[dict[str, Any], Any], dict[str, Any]]
Oracle = Callable[[np.ndarray], dict[str, np.ndarray]]
MODEL, VERSION = "digits-cnn", "1"


def invoke(entry: Entry, event: Any) -> dict[str, Any]:
    """What boto3's lambda.invoke(Payload=json.dumps(event)) does: the event and the answer each cross as JSON."""
    payload = json.dumps(event).encode("utf-8")
    answer = entry(json.loads(payload), LocalContext())
    parsed: dict[str, Any] = json.loads(json.dumps(answer))
    return parsed


def http_api_v2(
    method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers or {"content-type": "application/json"},
        "requestContext": {"http": {"method": method, "path": path, "sourceIp": "203.0.113.7"}, "stage": "$default"},
        "body": body,
        "isBase64Encoded": False,
    }


def function_url_event(method: str, path: str, body: str | None = None) -> dict[str, Any]:
    event = http_api_v2(method, path, body)
    event["requestContext"]["domainName"] = "abcdefgh.lambda-url.us-east-1.on.aws"
    return event


def rest_api_event(method: str, path: str, body: str | None = None) -> dict[str, Any]:
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"content-type": "application/json"},
        "requestContext": {"stage": "prod", "path": f"/prod{path}", "identity": {"sourceIp": "203.0.113.7"}},
        "body": body,
        "isBase64Encoded": False,
    }


BUILDERS = {"http-api-v2": http_api_v2, "rest-api-v1": rest_api_event, "function-url": function_url_event}


@pytest.mark.parametrize("kind", BUILDERS)
def test_boto3_invoke_with_a_hand_built_event_predicts_and_infers(
    lambda_handler: Entry, digits: np.ndarray, oracle: Oracle, kind: str
) -> None:
    build = BUILDERS[kind]
    expected = oracle(digits)
    assert json.loads(invoke(lambda_handler, build("GET", "/v2/health/ready"))["body"]) == {"live": True, "ready": True}
    predict = invoke(lambda_handler, build("POST", "/predict", json.dumps({"instances": digits.tolist()})))
    assert predict["statusCode"] == 200, predict
    labels = [p["label"] for p in json.loads(predict["body"])["predictions"]]
    assert labels == expected["label"].tolist()
    request = {"inputs": [{"name": "input", "shape": list(digits.shape), "datatype": "FP32", "data": digits.tolist()}]}
    infer = invoke(lambda_handler, build("POST", f"/v2/models/{MODEL}/infer", json.dumps(request)))
    assert infer["statusCode"] == 200, infer
    outputs = {output["name"]: output["data"] for output in json.loads(infer["body"])["outputs"]}
    assert outputs["label"] == expected["label"].tolist()
    np.testing.assert_allclose(outputs["probabilities"], expected["probabilities"].ravel(), rtol=1e-6)


def test_boto3_invoke_with_binary_tensors_in_base64_gets_base64_tensors_back(
    lambda_handler: Entry, digits: np.ndarray, oracle: Oracle
) -> None:
    request = {"inputs": [{"name": "input", "shape": list(digits.shape), "datatype": "FP32"}]}
    body, length = binary_request({**request, "parameters": {"binary_data_output": True}}, {"input": digits})
    headers = {"content-type": "application/octet-stream", "inference-header-content-length": str(length)}
    event = http_api_v2("POST", f"/v2/models/{MODEL}/infer", base64.b64encode(body).decode(), headers)
    event["isBase64Encoded"] = True
    answer = invoke(lambda_handler, event)
    assert (answer["statusCode"], answer["isBase64Encoded"]) == (200, True)
    header_length = int(answer["headers"]["inference-header-content-length"])
    outputs = {o["name"]: o["data"] for o in read_binary(base64.b64decode(answer["body"]), header_length)["outputs"]}
    np.testing.assert_array_equal(outputs["probabilities"], oracle(digits)["probabilities"].ravel())


@pytest.mark.parametrize(
    "payload",
    [
        {"inputs": [{"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32", "data": [0.0] * 64}]},
        {"instances": [[0.0] * 64]},
        {},
        [1, 2],
        "hello",
        None,
    ],
    ids=["bare-oip-request", "bare-predict-request", "empty-object", "list", "string", "null"],
)
def test_boto3_invoke_with_a_payload_of_no_served_kind_fails_naming_what_is_accepted(
    lambda_handler: Entry, payload: Any
) -> None:
    # Direct invocation has no OIP form of its own: a request body goes inside an HTTP event (or an SQS job).
    with pytest.raises(UnsupportedEventError, match=r"unrecognised event .*this function accepts: .*HTTP API"):
        invoke(lambda_handler, payload)


@pytest.mark.parametrize(
    ("mistake", "words"),
    [
        (lambda e: e.update(body={"instances": [[0.0] * 64]}), "'body' is dict: expected the request body as a string"),
        (lambda e: e["requestContext"]["http"].pop("sourceIp"), "it lacks 'requestContext.http.sourceIp'"),
        (lambda e: e.update(headers={"content-length": 12}), "'headers' must be an object whose values are strings"),
    ],
    ids=["body-not-serialised", "no-source-ip", "numeric-header"],
)
def test_boto3_invoke_with_a_half_built_http_event_fails_saying_what_is_wrong(
    lambda_handler: Entry, mistake: Callable[[dict[str, Any]], Any], words: str
) -> None:
    event = http_api_v2("POST", "/predict", json.dumps({"instances": [[0.0] * 64]}))
    mistake(event)
    with pytest.raises(MalformedEventError, match=r"malformed API Gateway HTTP API \(payload 2.0\) event: ") as caught:
        invoke(lambda_handler, event)
    assert words in str(caught.value)
