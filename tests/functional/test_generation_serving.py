"""GIVEN a character-level name generator (a small GRU step module) exported with its vocabulary and served through
the runtime the entry point builds WHEN clients ask for names as its users do (a first letter or none, a
temperature, a length, a seed) over /predict, the Open Inference Protocol, an SQS job and a JSON Lines batch file
THEN each answer is the name the user's own PyTorch sampling loop draws from the same seed, greedy answers need no
seed, and a letter outside the vocabulary, a length past the limit or a wrong type is a 400 naming the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from handler.batch.jobs import answer_job
from handler.runtime import Runtime
from tests.testkit import names
from tests.testkit.aws import INPUT_BUCKET, Aws, batch_context
from tests.testkit.batch_inputs import published, s3_event
from tests.testkit.invoke import Call, caller, runtime_for

REQUESTS = [
    {"start": "K", "temperature": 0.7, "max_length": 12, "seed": 7},
    {"start": "Ma", "temperature": 0, "max_length": 9},
    {"temperature": 1.2, "seed": 3},
    {"start": "Jo", "seed": 11},
]


@pytest.fixture(scope="module")
def served(names_model: tuple[Path, torch.nn.Module], moto: Aws) -> Runtime:
    return runtime_for(names_model[0], INPUT_BUCKET=INPUT_BUCKET)


@pytest.fixture(scope="module")
def call(served: Runtime) -> Call:
    return caller(served.http)


def users_loop(net: torch.nn.Module, request: dict[str, Any]) -> str:
    """The name the user's own PyTorch loop draws for the request (the export's defaults: 0.8, 12)."""
    return names.sample(
        net,
        request.get("start", ""),
        request.get("temperature", 0.8),
        request.get("max_length", 12),
        request.get("seed"),
    )


def test_predict_answers_the_names_the_users_own_loop_draws_from_the_same_seeds(
    call: Call, names_model: tuple[Path, torch.nn.Module]
) -> None:
    status, answer = call("POST", "/predict", {"instances": REQUESTS})
    assert status == 200, answer
    assert answer["predictions"] == [{"text": users_loop(names_model[1], request)} for request in REQUESTS]
    assert all(
        len(p["text"]) <= request.get("max_length", 12)
        for p, request in zip(answer["predictions"], REQUESTS, strict=True)
    )


def test_a_bare_start_text_is_a_request_and_greedy_answers_are_the_same_every_time(call: Call) -> None:
    first = call("POST", "/predict", {"instances": ["Ka", {"start": "Ka", "temperature": 0}]})
    again = call("POST", "/predict", {"instances": [{"start": "Ka", "temperature": 0}]})
    assert first[0] == again[0] == 200
    assert first[1]["predictions"][1] == again[1]["predictions"][0]
    assert first[1]["predictions"][0]["text"].startswith("Ka")


def test_the_open_inference_protocol_form_answers_a_text_tensor(
    call: Call, names_model: tuple[Path, torch.nn.Module]
) -> None:
    inputs = [
        {"name": "start", "datatype": "BYTES", "shape": [2], "data": ["K", "Ma"]},
        {"name": "temperature", "datatype": "FP32", "shape": [2], "data": [0.7, 0.0]},
        {"name": "max_length", "datatype": "INT64", "shape": [2], "data": [12, 9]},
        {"name": "seed", "datatype": "INT64", "shape": [2], "data": [7, -1]},
    ]
    status, answer = call("POST", "/v2/models/names/infer", {"id": "n-1", "inputs": inputs})
    assert status == 200, answer
    [text] = answer["outputs"]
    assert (text["name"], text["datatype"], text["shape"]) == ("text", "BYTES", [2])
    assert text["data"] == [users_loop(names_model[1], REQUESTS[0]), users_loop(names_model[1], REQUESTS[1])]


@pytest.mark.parametrize(
    ("instance", "words"),
    [
        ({"start": "K9"}, "instances[0].start holds ['9'], which the model's vocabulary does not"),
        ({"start": "K", "max_length": 50}, "instances[0].max_length is 50: expected 1 to 12 (the start counts)"),
        ({"temperature": "hot"}, 'instances[0].temperature is "hot": expected a number'),
        ({"temperature": -1}, "instances[0].temperature is -1: expected 0 (greedy) to 100"),
        ({"seed": 1.5}, "instances[0].seed is 1.5: expected an integer"),
        ({"prompt": "K"}, 'instances[0]: expected {"start": text to begin with'),
        (7, 'instances[0]: expected {"start": text to begin with'),
    ],
    ids=["letter", "length", "type", "range", "seed", "unknown-field", "number"],
)
def test_a_request_the_generator_cannot_take_is_a_400_naming_the_field(call: Call, instance: Any, words: str) -> None:
    status, answer = call("POST", "/predict", {"instances": [instance]})
    assert status == 400, answer
    assert words in answer["error"]


def test_an_sqs_job_generates_as_predict_does(served: Runtime, names_model: tuple[Path, torch.nn.Module]) -> None:
    route, answer = answer_job(served.plane, {"instances": REQUESTS[:2]})
    assert route == "predict"
    assert answer["predictions"] == [{"text": users_loop(names_model[1], request)} for request in REQUESTS[:2]]


def test_a_json_lines_file_of_requests_is_scored_with_every_line_accounted_for(
    aws: Aws, served: Runtime, names_model: tuple[Path, torch.nn.Module]
) -> None:
    lines = [json.dumps({"id": f"n{index}", **request}) for index, request in enumerate(REQUESTS)]
    lines.insert(2, json.dumps({"start": "Q!"}))
    aws.put("input/names.jsonl", ("\n".join(lines) + "\n").encode())
    served.batch.s3_notification(s3_event("input/names.jsonl"), batch_context())
    predictions, errors, summary = published(aws, "input/names.jsonl")
    assert summary["records"] == {"in": 5, "scored": 4, "failed": 1}
    assert [(p["id"], p["text"]) for p in predictions] == [
        (f"n{index}", users_loop(names_model[1], request)) for index, request in enumerate(REQUESTS)
    ]
    assert errors[0]["record"] == 3
    assert errors[0]["reason"] == "line 3: request.start holds ['!'], which the model's vocabulary does not"
