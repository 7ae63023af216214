"""GIVEN models fitted on a DataFrame of named, mixed-type columns (scikit-learn pipelines with a ColumnTransformer,
LightGBM and XGBoost, alone and as a pipeline's last step) WHEN exported with a DataFrame sample THEN the graph
takes one input per column, typed from the sample, records each column's schema (missing allowed, categories
seen, unseen taken) as the model itself answers it, and answers as the model does on gaps and unseen
categories; or the export is refused with a typed error."""

from __future__ import annotations

import json
import pickle
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest

from model_export import ShapeMismatchError, UnsupportedModelError, export_sklearn
from tests.testkit import tabular

Cli = Callable[..., subprocess.CompletedProcess[str]]


def session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def feeds(frame: pd.DataFrame, graph: ort.InferenceSession) -> dict[str, np.ndarray]:
    """What a client's records become, by hand: [rows, 1] per input, NaN for a missing number, "" for a string."""
    fed = {}
    for node in graph.get_inputs():
        values = frame[node.name]
        if node.type == "tensor(string)":
            fed[node.name] = np.array([["" if pd.isna(v) else str(v)] for v in values], dtype=object)
        else:
            dtype = np.float32 if node.type == "tensor(float)" else np.int64
            fed[node.name] = values.to_numpy(dtype=dtype).reshape(-1, 1)
    return fed


def held_out(rows: int = 60) -> pd.DataFrame:
    """Rows the model never saw, with gaps in every column that has them and a city no one fitted on."""
    frame, _ = tabular.customers(rows, seed=7)
    frame.loc[0, "city"] = "Tokyo"
    frame.loc[1, ["age", "city"]] = np.nan
    return frame


def columns_of(path: Path) -> dict[str, dict[str, Any]]:
    metadata = session(path).get_modelmeta().custom_metadata_map
    return {column["name"]: column for column in json.loads(metadata["columns"])}


def test_a_column_transformer_pipeline_takes_its_columns_by_name_and_answers_as_sklearn_on_gaps_and_unseen_cities(
    tmp_path: Path,
) -> None:
    frame, labels = tabular.customers()
    model = tabular.imputing_pipeline(frame, labels)
    report = export_sklearn(model, tmp_path / "customers.onnx", sample=frame.head(80))
    graph = session(report.path)
    assert [(node.name, node.type, node.shape[1]) for node in graph.get_inputs()] == [
        ("age", "tensor(float)", 1),
        ("income", "tensor(float)", 1),
        ("city", "tensor(string)", 1),
        ("visits", "tensor(float)", 1),  # an integer column the pipeline imputes: float, to carry a gap
    ]
    columns = columns_of(report.path)
    assert {name: column["missing"] for name, column in columns.items()} == dict.fromkeys(tabular.COLUMNS, True)
    assert set(columns["city"]["categories"]) == {*tabular.CITIES, "unknown"}
    assert columns["city"]["unseen"] is True
    test = held_out()
    label, probabilities = graph.run(None, feeds(test, graph))
    assert list(label) == list(model.predict(test))
    np.testing.assert_allclose(probabilities, model.predict_proba(test), atol=1e-5)
    assert report.class_labels == ("churn", "stay")
    assert report.parity.samples > 80 + 1  # the sample, another batch size, then rows with gaps and unseen cities
    assert report.inputs["city"] == "string [batch, 1]: column 'city', may be missing (the model imputes it)"


def test_a_pipeline_without_imputers_refuses_gaps_and_unseen_categories_in_its_schema(tmp_path: Path) -> None:
    frame, labels = tabular.customers()
    model = tabular.strict_pipeline(frame, labels)
    report = export_sklearn(model, tmp_path / "strict.onnx", sample=frame.dropna().head(50))
    columns = columns_of(report.path)
    assert {name: column["missing"] for name, column in columns.items()} == dict.fromkeys(tabular.COLUMNS, False)
    assert columns["visits"]["type"] == "int"
    assert sorted(columns["city"]["categories"]) == sorted(tabular.CITIES)
    assert columns["city"]["unseen"] is False
    assert [node.type for node in session(report.path).get_inputs()][-1] == "tensor(int64)"


@pytest.mark.parametrize(
    ("build", "framework"),
    [(tabular.lightgbm_classifier, "lightgbm"), (tabular.xgboost_classifier, "xgboost")],
    ids=["lightgbm", "xgboost"],
)
def test_a_booster_as_a_pipelines_last_step_exports_through_onnxmltools_with_the_same_parity(
    tmp_path: Path, build: Callable[..., Any], framework: str
) -> None:
    frame, labels = tabular.customers()
    model = build(frame, labels)
    report = export_sklearn(model, tmp_path / f"{framework}.onnx", sample=frame.head(80))
    assert report.source_framework == framework
    assert "onnxmltools" in report.converter
    columns = columns_of(report.path)
    assert columns["age"]["missing"] is True  # the booster takes NaN as it is
    # OrdinalEncoder hands a missing city to the booster as NaN; "" in a string tensor is one more unknown city
    # to the graph. The parity probe finds that, so the served model refuses a missing city instead of guessing.
    assert columns["city"]["missing"] is False
    assert any("'city' may not be missing" in note for note in report.notes)
    test = held_out().dropna(subset=["city"])
    graph = session(report.path)
    label, probabilities = graph.run(None, feeds(test, graph))
    assert list(label) == list(model.predict(test))
    np.testing.assert_allclose(probabilities, model.predict_proba(test), atol=1e-5)


@pytest.mark.parametrize("build", [tabular.lightgbm_regressor, tabular.xgboost_regressor], ids=["lightgbm", "xgboost"])
def test_a_booster_fitted_alone_on_a_dataframe_takes_its_columns_by_name(
    tmp_path: Path, build: Callable[..., Any]
) -> None:
    frame, _ = tabular.customers()
    model = build(frame)
    report = export_sklearn(model, tmp_path / "spend.onnx", sample=frame[tabular.NUMERIC].head(80))
    graph = session(report.path)
    assert [node.name for node in graph.get_inputs()] == tabular.NUMERIC
    test = held_out()[tabular.NUMERIC]
    [output] = graph.run(None, feeds(test, graph))
    np.testing.assert_allclose(output.ravel(), model.predict(test), rtol=1e-4, atol=1e-3)
    assert report.task == "regression"


def test_the_cli_reads_a_sample_csv_with_a_header_as_the_table(tmp_path: Path, cli: Cli) -> None:
    frame, labels = tabular.customers()
    (tmp_path / "customers.pkl").write_bytes(pickle.dumps(tabular.imputing_pipeline(frame, labels)))
    frame.head(40).to_csv(tmp_path / "sample.csv", index=False)
    result = cli("sklearn", "customers.pkl", "--sample", "sample.csv", "-o", "customers.onnx", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [node.name for node in session(tmp_path / "customers.onnx").get_inputs()] == tabular.COLUMNS
    assert "column 'city'" in result.stdout


def test_a_dataframe_model_exported_without_a_sample_is_told_to_give_one(tmp_path: Path) -> None:
    frame, labels = tabular.customers()
    with pytest.raises(UnsupportedModelError, match=r"fitted on a DataFrame: pass sample="):
        export_sklearn(tabular.imputing_pipeline(frame, labels), tmp_path / "no-sample.onnx")
    assert not (tmp_path / "no-sample.onnx").exists()


def _fitted_on(frame: pd.DataFrame, labels: np.ndarray) -> Any:
    """A plain pipeline over every column of ``frame`` (numbers passed through, a city one-hot encoded)."""
    from sklearn.compose import ColumnTransformer  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415
    from sklearn.pipeline import Pipeline  # noqa: PLC0415
    from sklearn.preprocessing import OneHotEncoder  # noqa: PLC0415

    numbers = [name for name in frame.columns if name != "city"]
    parts = [("numbers", "passthrough", numbers), ("cities", OneHotEncoder(), ["city"])]
    model = LogisticRegression(max_iter=2000)
    return Pipeline([("columns", ColumnTransformer(parts)), ("model", model)]).fit(frame, labels)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.assign(flag=f["visits"] > 3), "column 'flag' is boolean: give it as an integer"),
        (lambda f: f.assign(city=f["city"].astype("category")), "column 'city' has pandas' category dtype"),
    ],
    ids=["bool", "category"],
)
def test_columns_the_graph_cannot_type_are_refused_naming_the_column(
    tmp_path: Path, change: Callable[[pd.DataFrame], pd.DataFrame], message: str
) -> None:
    frame, labels = tabular.customers()
    complete = change(frame.dropna())
    model = _fitted_on(complete, labels[complete.index])
    with pytest.raises(ShapeMismatchError, match=message):
        export_sklearn(model, tmp_path / "refused.onnx", sample=complete.head(20))
    assert not (tmp_path / "refused.onnx").exists()


def test_a_sample_without_a_column_the_model_was_fitted_on_is_refused(tmp_path: Path) -> None:
    frame, labels = tabular.customers()
    model = tabular.imputing_pipeline(frame, labels)
    with pytest.raises(ShapeMismatchError, match=r"lacks the column\(s\) \['income'\]"):
        export_sklearn(model, tmp_path / "refused.onnx", sample=frame.drop(columns=["income"]).head(20))


def test_quantize_is_refused_for_a_model_taking_columns(tmp_path: Path) -> None:
    frame, labels = tabular.customers()
    model = tabular.imputing_pipeline(frame, labels)
    eval_data = (np.zeros((2, 4), dtype=np.float32), np.zeros(2))
    with pytest.raises(UnsupportedModelError, match="--quantize int8"):
        export_sklearn(model, tmp_path / "q.onnx", sample=frame.head(20), quantize="int8", eval_data=eval_data)
