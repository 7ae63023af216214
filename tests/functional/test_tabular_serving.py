"""GIVEN pipelines fitted on the customers table and exported with their column schema WHEN clients send what
tabular clients send (records with null and absent columns, columns, MLflow's dataframe_split and
dataframe_records, one Open Inference Protocol tensor per column, an SQS job) through the runtime the entry
point builds THEN the answers are the pipeline's own predictions, and every mistake is a 400 naming the record,
the column and what was expected."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from handler.batch.jobs import JobFailed, answer_job
from handler.runtime import Runtime
from model_export import export_sklearn
from tests.testkit import tabular
from tests.testkit.invoke import Call, caller, runtime_for

RECORDS: list[dict[str, Any]] = [
    {"age": 31, "income": 52.5, "city": "Paris", "visits": 3},
    {"age": None, "income": 40.0, "city": None, "visits": 1},  # null: missing
    {"income": 61.0, "city": "Tokyo", "visits": 0},  # an absent column, and a city nobody fitted on
    {"age": 70.0, "income": 35.25, "city": "Lille", "visits": 19},
]


@pytest.fixture(scope="module")
def fitted() -> dict[str, Any]:
    frame, labels = tabular.customers()
    return {
        "customers": (tabular.imputing_pipeline(frame, labels), frame),
        "strict": (tabular.strict_pipeline(frame, labels), frame.dropna()),
        "spend": (tabular.lightgbm_regressor(frame), frame[tabular.NUMERIC]),
    }


@pytest.fixture(scope="module")
def served(fitted: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    folder = tmp_path_factory.mktemp("tabular-models")
    for name, (model, frame) in fitted.items():
        export_sklearn(model, folder / f"{name}.onnx", sample=frame.head(80))
    return runtime_for(folder, DEFAULT_MODEL="customers")


@pytest.fixture(scope="module")
def call(served: Runtime) -> Call:
    return caller(served.http)


def expected_labels(fitted: dict[str, Any], records: list[dict[str, Any]], name: str = "customers") -> list[str]:
    model = fitted[name][0]
    return [str(label) for label in model.predict(pd.DataFrame(records, columns=tabular.COLUMNS))]


def labels_of(body: dict[str, Any]) -> list[str]:
    return [prediction["label"] for prediction in body["predictions"]]


def test_records_with_nulls_absent_columns_and_unseen_cities_get_the_pipelines_own_predictions(
    call: Call, fitted: dict[str, Any]
) -> None:
    status, body = call("POST", "/predict", {"instances": RECORDS})
    assert status == 200, body
    assert labels_of(body) == expected_labels(fitted, RECORDS)
    probabilities = fitted["customers"][0].predict_proba(pd.DataFrame(RECORDS, columns=tabular.COLUMNS))
    served = [[p["probabilities"][name] for name in ("churn", "stay")] for p in body["predictions"]]
    np.testing.assert_allclose(served, probabilities, atol=1e-5)


def test_columns_and_mlflows_dataframe_forms_answer_as_the_records_do(call: Call, fitted: dict[str, Any]) -> None:
    frame = pd.DataFrame(RECORDS, columns=tabular.COLUMNS).astype(object).where(lambda f: f.notna(), None)
    split = {"columns": tabular.COLUMNS, "data": frame.to_numpy().tolist(), "index": list(range(len(frame)))}
    forms = {
        "inputs": {name: frame[name].tolist() for name in tabular.COLUMNS},
        "dataframe_split": split,
        "dataframe_records": RECORDS,
    }
    for form, value in forms.items():
        status, body = call("POST", "/predict", {form: value})
        assert status == 200, (form, body)
        assert labels_of(body) == expected_labels(fitted, RECORDS), form
    status, body = call("POST", "/predict", {"inputs": {"income": [50.0], "city": ["Nice"], "visits": [2]}})
    assert status == 200, body  # an absent column the model imputes is missing in every row


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"instances": [RECORDS[0], RECORDS[0] | {"age": "31"}]},
            "instances[1].age: column 'age' got text (\"31\"): expected a number or null (missing)",
        ),
        (
            {"instances": [RECORDS[0] | {"agee": 31}]},
            "instances[0]: unknown column 'agee': the model takes age, city, income, visits",
        ),
        (
            {"instances": [RECORDS[0] | {"city": 75001}]},
            "instances[0].city: column 'city' got a number (75001): expected text or null (missing)",
        ),
        ({"instances": [RECORDS[0] | {"income": True}]}, "got a boolean (true): expected a number"),
        ({"instances": [RECORDS[0] | {"income": 1e39}]}, "expected a number or null (missing) within ±3.40282e+38"),
        ({"inputs": {"age": [1.0, 2.0], "income": [1.0]}}, "inputs: the columns have {'age': 2, 'income': 1} values"),
        ({"dataframe_split": {"columns": ["age", "age"], "data": [[1, 2]]}}, "a column is named twice"),
        ({"dataframe_split": {"columns": ["age", "income"], "data": [[1]]}}, "dataframe_split.data[0] has 1 values"),
        ({"inputs": []}, "inputs: expected at least one row"),
        ({"instances": [7]}, "instances[0]: expected an object of columns (age, city, income, visits), got a number"),
    ],
    ids=[
        "text-for-number",
        "unknown-column",
        "number-for-text",
        "bool",
        "range",
        "ragged",
        "twice",
        "short",
        "empty",
        "not-a-record",
    ],
)
def test_a_bad_row_is_a_400_naming_the_row_the_column_and_what_was_expected(
    call: Call, body: dict[str, Any], message: str
) -> None:
    status, answer = call("POST", "/predict", body)
    assert status == 400, answer
    assert message in answer["error"]


def test_a_model_that_imputes_nothing_refuses_gaps_and_unseen_categories_by_name(served: Runtime) -> None:
    record = {"age": 40.0, "income": 50.0, "city": "Paris", "visits": 3}
    route, answer = answer_job(served.plane, {"instances": [record], "model_name": "strict"})
    assert (route, len(answer["predictions"])) == ("predict", 1)
    for change, message in [
        ({"age": None}, "instances[0].age: column 'age' got null: expected a number"),
        (
            {"city": "Tokyo"},
            "column 'city' got text (\"Tokyo\"): expected text, one of 'Lille', 'Lyon', 'Nice', 'Paris'",
        ),
        ({"visits": 2.5}, "column 'visits' got a number (2.5): expected an integer in [-9223372036854775808"),
    ]:
        with pytest.raises(JobFailed) as refused:
            answer_job(served.plane, {"instances": [record | change], "model_name": "strict"})
        assert message in str(refused.value), change


def test_the_protocol_takes_one_tensor_per_column_with_strings_as_bytes(call: Call, fitted: dict[str, Any]) -> None:
    record = RECORDS[0]
    types = {"age": "FP32", "income": "FP32", "city": "BYTES", "visits": "FP32"}
    tensors = [
        {"name": name, "shape": [1, 1], "datatype": types[name], "data": [value]} for name, value in record.items()
    ]
    status, answer = call("POST", "/v2/models/customers/infer", {"inputs": tensors, "outputs": [{"name": "label"}]})
    assert status == 200, answer
    assert answer["outputs"][0]["data"] == expected_labels(fitted, [record])
    status, metadata = call("GET", "/v2/models/customers")
    assert [(t["name"], t["datatype"], t["shape"]) for t in metadata["inputs"]][2] == ("city", "BYTES", [-1, 1])
    columns = {column["name"]: column for column in json.loads(metadata["parameters"]["columns"])}
    assert columns["age"] == {"name": "age", "type": "float", "missing": True}
    assert (
        metadata["inputs"][0]["description"]
        == "float32 [batch, 1]: column 'age', may be missing (the model imputes it)"
    )


def test_a_job_of_records_is_answered_as_the_http_request_is(call: Call, served: Runtime) -> None:
    route, answer = answer_job(served.plane, {"instances": RECORDS, "top_k": 1})
    status, over_http = call("POST", "/predict", {"instances": RECORDS, "top_k": 1})
    assert (route, status) == ("predict", 200)
    assert answer == over_http


def test_the_documented_examples_are_records_the_model_takes(call: Call) -> None:
    status, document = call("GET", "/openapi.json")
    assert status == 200
    predict = document["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["example"]
    assert predict["instances"][1] == {"age": None, "income": None, "city": None, "visits": None}
    assert call("POST", "/predict", predict)[0] == 200
    infer = document["paths"]["/v2/models/{model_name}/infer"]["post"]["requestBody"]["content"]["application/json"]
    assert call("POST", "/v2/models/customers/infer", infer["example"])[0] == 200


def test_a_regressor_on_numeric_columns_answers_its_values(call: Call, fitted: dict[str, Any]) -> None:
    rows = [{"age": 30.0, "income": 45.0, "visits": 4}, {"age": None, "income": 70.0, "visits": 12}]
    tensors = [
        {
            "name": name,
            "shape": [2, 1],
            "datatype": "FP32",
            "data": [row[name] if row[name] is not None else 0.0 for row in rows],
        }
        for name in tabular.NUMERIC
    ]
    status, answer = call("POST", "/v2/models/spend/infer", {"inputs": tensors})
    assert status == 200, answer
    expected = fitted["spend"][0].predict(pd.DataFrame(rows).fillna(0.0))
    np.testing.assert_allclose(answer["outputs"][0]["data"], expected, rtol=1e-4)
