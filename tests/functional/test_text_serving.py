"""GIVEN a TfidfVectorizer + LogisticRegression exported from review texts, served through the runtime the entry point
builds, with moto's S3 for its batch path WHEN clients send texts as they do (bare strings, records, columns, an
OIP BYTES tensor, an SQS job, a CSV with a text column, JSON Lines of string fields) THEN every answer is the
pipeline's own class and probabilities, and a number or null where text belongs is a 400 naming where it is."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import numpy as np
import pytest

from handler.batch.jobs import answer_job
from handler.runtime import Runtime
from model_export import export_sklearn
from tests.testkit import text
from tests.testkit.aws import INPUT_BUCKET, OUTPUT_BUCKET, Aws, batch_context
from tests.testkit.batch_inputs import published, s3_event
from tests.testkit.invoke import Call, caller, runtime_for

TEXTS = ["Great blender, très bien!", "CASSÉ after a day: refund", "which size fits the lid?", "", "zzqx"]


@pytest.fixture(scope="module")
def classifier() -> Any:
    return text.classifier(*text.reviews(300, seed=2))


@pytest.fixture(scope="module")
def served(classifier: Any, tmp_path_factory: pytest.TempPathFactory, moto: Aws) -> Runtime:
    path = tmp_path_factory.mktemp("text-model") / "reviews.onnx"
    export_sklearn(classifier, path, sample=text.reviews(40, seed=3)[0])
    return runtime_for(path, INPUT_BUCKET=INPUT_BUCKET, JOBS_RESULT_BUCKET=OUTPUT_BUCKET)


@pytest.fixture(scope="module")
def call(served: Runtime) -> Call:
    return caller(served.http)


def assert_the_pipelines_answers(predictions: list[dict[str, Any]], classifier: Any, texts: list[str]) -> None:
    assert [prediction["label"] for prediction in predictions] == classifier.predict(texts).tolist()
    served = [[prediction["probabilities"][name] for name in text.CLASSES] for prediction in predictions]
    np.testing.assert_allclose(served, classifier.predict_proba(texts), atol=1e-5)


@pytest.mark.parametrize(
    "body",
    [{"instances": TEXTS}, {"instances": [{"text": item} for item in TEXTS]}, {"inputs": {"text": TEXTS}}],
    ids=["bare-strings", "records", "columns"],
)
def test_texts_in_every_predict_form_get_the_pipelines_own_answers(
    call: Call, classifier: Any, body: dict[str, Any]
) -> None:
    status, answer = call("POST", "/predict", body)
    assert status == 200, answer
    assert_the_pipelines_answers(answer["predictions"], classifier, TEXTS)


def test_top_k_gives_the_most_probable_classes_by_name(call: Call, classifier: Any) -> None:
    status, answer = call("POST", "/predict", {"instances": TEXTS[:2], "top_k": 2})
    assert status == 200, answer
    for prediction, row in zip(answer["predictions"], classifier.predict_proba(TEXTS[:2]), strict=True):
        best = [text.CLASSES[index] for index in np.argsort(-row)[:2]]
        assert list(prediction["probabilities"]) == best


def test_an_oip_bytes_tensor_of_texts_answers_the_class_names(call: Call, classifier: Any) -> None:
    tensor = {"name": "text", "datatype": "BYTES", "shape": [len(TEXTS), 1], "data": TEXTS}
    status, answer = call("POST", "/v2/models/reviews/infer", {"inputs": [tensor]})
    assert status == 200, answer
    outputs = {output["name"]: output for output in answer["outputs"]}
    assert (outputs["label"]["datatype"], outputs["label"]["data"]) == ("BYTES", classifier.predict(TEXTS).tolist())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"instances": ["fine", 3]}, "instances[1].text: column 'text' got a number (3): expected text"),
        ({"instances": [None]}, "instances[0].text: column 'text' got null: expected text"),
        ({"instances": [{"review": "fine"}]}, "instances[0]: unknown column 'review': the model takes text"),
    ],
    ids=["number", "null", "wrong-name"],
)
def test_what_is_not_text_is_a_400_naming_where_it_is(call: Call, body: dict[str, Any], message: str) -> None:
    status, answer = call("POST", "/predict", body)
    assert status == 400, answer
    assert message in answer["error"]


def test_an_sqs_job_of_texts_answers_as_predict_does(served: Runtime, classifier: Any) -> None:
    route, answer = answer_job(served.plane, {"instances": TEXTS})
    assert route == "predict"
    assert_the_pipelines_answers(answer["predictions"], classifier, TEXTS)


def scored_labels(aws: Aws, key: str) -> list[str]:
    """The labels of a scored file's predictions, in its own format (CSV or JSON Lines)."""
    kind = key.rsplit(".", 1)[1]
    body = aws.read("output/" + key.removeprefix("input/") + f"/predictions.{kind}").decode()
    rows = csv.DictReader(io.StringIO(body)) if kind == "csv" else map(json.loads, body.splitlines())
    return [row["label"] for row in rows]


def test_a_csv_with_a_text_column_and_json_lines_of_string_fields_score_as_predict_does(
    aws: Aws, served: Runtime, classifier: Any
) -> None:
    texts = [*TEXTS[:3], 'a "quoted", comma-full\nmulti-line review', "great"]
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerows([["id", "text"], *([f"r{n}", item] for n, item in enumerate(texts))])
    lines = [json.dumps({"text": item}) for item in texts] + [json.dumps({"text": 7})]
    for key, body in [("input/reviews.csv", table.getvalue()), ("input/reviews.jsonl", "\n".join(lines) + "\n")]:
        aws.put(key, body.encode())
        served.batch.s3_notification(s3_event(key), batch_context())
        _, errors, summary = published(aws, key)
        assert scored_labels(aws, key) == classifier.predict(texts).tolist(), key
        failed = 1 if key.endswith(".jsonl") else 0
        assert summary["records"] == {"in": len(texts) + failed, "scored": len(texts), "failed": failed}, (key, errors)
        assert [error["record"] for error in errors] == ([len(texts) + 1] if failed else [])
