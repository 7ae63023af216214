"""GIVEN the batch function serving a pipeline fitted on the customers table, with a label column and a pass-through
column configured, and moto's S3 WHEN a CSV (columns by header name, in another order, with blank cells, extra
columns and a bad row) or JSON Lines of objects is uploaded THEN the predictions are the pipeline's own, carry
the id, the pass-through and the label, every record is scored or failed by name, and the summary holds the
counts the metrics are made of; a labelled CSV of digits is scored by position with its label set aside."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from handler.runtime import Runtime
from model_export import export_sklearn
from tests.testkit import tabular
from tests.testkit.aws import INPUT_BUCKET, OUTPUT_BUCKET, Aws, batch_context
from tests.testkit.batch_inputs import s3_event
from tests.testkit.invoke import runtime_for

SETTINGS = {
    "INPUT_BUCKET": INPUT_BUCKET,
    "JOBS_RESULT_BUCKET": OUTPUT_BUCKET,
    "BATCH_LABEL_COLUMN": "churned",
    "BATCH_PASSTHROUGH_COLUMNS": "customer_id",
    "BATCH_CHUNK_RECORDS": "16",  # several chunks, so a bad record's chunk and the others are all exercised
}


@pytest.fixture(scope="module")
def customers() -> tuple[pd.DataFrame, np.ndarray, Any]:
    frame, labels = tabular.customers(300, seed=3)
    return frame, labels, tabular.imputing_pipeline(frame, labels)


@pytest.fixture(scope="module")
def batch(
    customers: tuple[pd.DataFrame, np.ndarray, Any], tmp_path_factory: pytest.TempPathFactory, moto: Aws
) -> Runtime:
    frame, _, model = customers
    path = tmp_path_factory.mktemp("tabular-batch") / "customers.onnx"
    export_sklearn(model, path, sample=frame.head(60))
    return runtime_for(path, **SETTINGS)


def labelled_csv(frame: pd.DataFrame, labels: np.ndarray) -> tuple[bytes, pd.DataFrame]:
    """The table as a user exports it: another column order, an id, a pass-through, the label and a column the
    model does not take; blank cells where values are missing; row 5's age is not a number."""
    table = frame.assign(id=[f"r{n}" for n in range(len(frame))], customer_id=range(1000, 1000 + len(frame)))
    table = table.assign(churned=labels, notes="called twice")[
        ["customer_id", "churned", "city", "notes", "visits", "id", "income", "age"]
    ]
    text = table.to_csv(index=False)
    rows = text.splitlines()
    cells = next(csv.reader([rows[5]]))
    cells[-1] = "abc"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    rows[5] = out.getvalue().rstrip("\n")
    return ("\n".join(rows) + "\n").encode(), table


def outputs(aws: Aws, key: str, kind: str) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    base = "output/" + key.removeprefix("input/") + "/"
    errors = [json.loads(line) for line in aws.read(base + "errors.jsonl").splitlines()]
    return aws.read(base + f"predictions.{kind}").decode(), errors, json.loads(aws.read(base + "summary.json"))


def test_a_csv_is_read_by_header_name_and_scored_as_the_pipeline_scores_it(
    aws: Aws, batch: Runtime, customers: tuple[pd.DataFrame, np.ndarray, Any]
) -> None:
    frame, labels, model = customers
    body, table = labelled_csv(frame, labels)
    aws.put("input/tabular/customers.csv", body)
    batch.batch.s3_notification(s3_event("input/tabular/customers.csv"), batch_context())
    predictions, errors, summary = outputs(aws, "input/tabular/customers.csv", "csv")
    assert summary["records"] == {"in": len(frame), "scored": len(frame) - 1, "failed": 1}
    assert errors == [{"record": 5, "line": 6, "id": None, "reason": "line 6, column 'age': 'abc' is not a number"}]
    rows = list(csv.DictReader(io.StringIO(predictions)))
    assert list(rows[0]) == ["record", "id", "customer_id", "churned", "label", "score", "churn", "stay"]
    scored = table.drop(index=4)
    assert [row["label"] for row in rows] == [str(label) for label in model.predict(scored[tabular.COLUMNS])]
    assert [row["id"] for row in rows] == scored["id"].tolist()
    assert [int(row["customer_id"]) for row in rows] == scored["customer_id"].tolist()
    counts = summary["labels"]
    assert (counts["column"], counts["records"], counts["missing"]) == ("churned", len(frame) - 1, 0)
    matrix = np.array(counts["confusion"]["matrix"])
    truth, predicted = scored["churned"].tolist(), model.predict(scored[tabular.COLUMNS]).tolist()
    assert matrix.trace() == sum(t == p for t, p in zip(truth, predicted, strict=True))
    assert matrix.sum() == len(scored)


def test_json_lines_objects_with_nulls_are_scored_as_the_same_records_over_http(
    aws: Aws, batch: Runtime, customers: tuple[pd.DataFrame, np.ndarray, Any]
) -> None:
    frame, labels, model = customers
    records = frame.head(20).astype(object).where(frame.head(20).notna(), None).to_dict(orient="records")
    lines = [json.dumps(record | {"churned": label}) for record, label in zip(records, labels, strict=False)]
    lines[7] = json.dumps({**records[7], "visits": "many"})  # refused by name, as over HTTP
    aws.put("input/tabular/customers.jsonl", ("\n".join(lines) + "\n").encode())
    batch.batch.s3_notification(s3_event("input/tabular/customers.jsonl"), batch_context())
    predictions, errors, summary = outputs(aws, "input/tabular/customers.jsonl", "jsonl")
    scored = [json.loads(line) for line in predictions.splitlines()]
    expected = model.predict(frame.head(20).drop(index=7))
    assert [line["label"] for line in scored] == [str(label) for label in expected]
    assert [error["record"] for error in errors] == [8]
    assert "record 8: column 'visits' got text (\"many\"): expected a number or null (missing)" in errors[0]["reason"]
    assert summary["records"] == {"in": 20, "scored": 19, "failed": 1}
    assert (summary["labels"]["records"], summary["labels"]["missing"]) == (19, 0)
    assert [line["churned"] for line in scored] == [label for n, label in enumerate(labels[:20]) if n != 7]


def test_a_npy_file_for_a_model_taking_columns_is_rejected_saying_what_to_send(aws: Aws, batch: Runtime) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((3, 4), dtype=np.float32))
    aws.put("input/tabular/customers.npy", buffer.getvalue())
    summary = batch.batch.s3_notification(s3_event("input/tabular/customers.npy"), batch_context())["objects"][0]
    assert summary["status"] == "rejected"
    assert "this model takes named columns (age, income, city, visits): send CSV with a header" in summary["file_error"]


def test_a_labelled_csv_of_digits_is_scored_by_position_with_its_label_and_id_set_aside(
    aws: Aws, default_model: Path, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    runtime = runtime_for(default_model, **(SETTINGS | {"BATCH_LABEL_COLUMN": "digit"}))
    x, y = digits
    header = ",".join(["id", *(f"p{n}" for n in range(64)), "digit"])
    rows = [
        ",".join([f"d{n}", *map(str, image.ravel().astype(int).tolist()), str(label)])
        for n, (image, label) in enumerate(zip(x[:30], y[:30], strict=True))
    ]
    aws.put("input/tabular/digits.csv", ("\n".join([header, *rows]) + "\n").encode())
    runtime.batch.s3_notification(s3_event("input/tabular/digits.csv"), batch_context())
    predictions, errors, summary = outputs(aws, "input/tabular/digits.csv", "csv")
    assert errors == []
    assert summary["records"] == {"in": 30, "scored": 30, "failed": 0}
    matrix = np.array(summary["labels"]["confusion"]["matrix"])
    assert matrix.sum() == 30
    assert matrix.trace() >= 27  # the default model's held-out accuracy is about 0.97
    first = next(csv.DictReader(io.StringIO(predictions)))
    assert (first["id"], first["digit"]) == ("d0", str(y[0]))
