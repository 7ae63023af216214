"""GIVEN a LightGBM classifier pipeline and a LightGBM regressor fitted on the customers table WHEN a user exports
each with the command line, serves it, scores a labelled CSV with --label-column, and evaluates a prefix the
batch function scored in S3 THEN the served answers are the model's own, and the metrics are exactly
scikit-learn's on the same rows (accuracy, per-class F1 and log loss; MAE, RMSE and R²), from the summaries'
counts alone."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from tests.testkit import tabular
from tests.testkit.aws import INPUT_BUCKET, OUTPUT_BUCKET, Aws
from tests.testkit.cli import one_error_line, run_cli
from tests.testkit.invoke import caller, runtime_for

RECORDS = [{"age": 31.0, "income": 52.5, "city": "Paris", "visits": 3}, {"age": None, "income": 38.0, "city": "Lille"}]


def export(model: Any, sample: pd.DataFrame, where: Path, name: str) -> Path:
    """Pickle, write the sample CSV, and export through the command line as a user would."""
    (where / f"{name}.pkl").write_bytes(pickle.dumps(model))
    sample.to_csv(where / f"{name}-sample.csv", index=False)
    out = where / f"{name}.onnx"
    result = run_cli("export", "sklearn", f"{name}.pkl", "--sample", f"{name}-sample.csv", "-o", str(out), cwd=where)
    assert result.returncode == 0, result.stderr
    return out


def test_a_lightgbm_classifier_serves_its_own_answers_and_scores_to_scikit_learns_metrics(tmp_path: Path) -> None:
    frame, labels = tabular.customers()
    model = tabular.lightgbm_classifier(frame, labels)
    path = export(model, frame.head(80), tmp_path, "churn")
    rows = RECORDS
    status, body = caller(runtime_for(path).http)("POST", "/predict", {"instances": rows})
    assert status == 200, body
    assert [p["label"] for p in body["predictions"]] == list(model.predict(pd.DataFrame(rows, columns=tabular.COLUMNS)))
    test, truth = tabular.customers(120, seed=11)
    test = test.dropna(subset=["city"])  # the exported booster takes no missing city (the export said why)
    test.assign(churned=truth[test.index]).to_csv(tmp_path / "labelled.csv", index=False)
    scored = run_cli(
        "score", "labelled.csv", "--model", str(path), "--label-column", "churned", "--out", "out", cwd=tmp_path
    )
    assert scored.returncode == 0, scored.stderr
    report = json.loads((tmp_path / "out" / "metrics.json").read_text())
    predicted = model.predict(test)
    expected = truth[test.index]
    assert report["accuracy"] == pytest.approx(metrics.accuracy_score(expected, predicted), abs=1e-12)
    assert report["macro"]["f1"] == pytest.approx(metrics.f1_score(expected, predicted, average="macro"), abs=1e-12)
    assert report["log_loss"] == pytest.approx(
        metrics.log_loss(expected, model.predict_proba(test), labels=model.classes_), rel=1e-5
    )
    assert f"{len(test)} labelled records (churned): accuracy" in scored.stdout
    assert (tmp_path / "out" / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    one = run_cli("evaluate", str(tmp_path / "out" / "labelled.csv" / "summary.json"), "--json")
    assert one.returncode == 0, one.stderr
    assert json.loads(one.stdout)["accuracy"] == report["accuracy"]


def test_a_regressor_scored_by_the_batch_function_is_evaluated_from_its_s3_summaries(aws: Aws, tmp_path: Path) -> None:
    frame, _ = tabular.customers()
    model = tabular.lightgbm_regressor(frame)
    path = export(model, frame[tabular.NUMERIC].head(80), tmp_path, "spend")
    runtime = runtime_for(path, INPUT_BUCKET=INPUT_BUCKET, JOBS_RESULT_BUCKET=OUTPUT_BUCKET, BATCH_LABEL_COLUMN="spend")
    parts = []
    for part, seed in (("a", 21), ("b", 22)):
        test, _ = tabular.customers(90, seed=seed)
        test = test[tabular.NUMERIC].assign(spend=tabular.spend(test, seed=seed))
        aws.put(f"input/spend/{part}.csv", test.to_csv(index=False).encode())
        parts.append(test)
    runtime.batch.schedule({"score_prefix": {"bucket": INPUT_BUCKET, "prefix": "input/spend/"}}, _context())
    result = run_cli("evaluate", f"s3://{INPUT_BUCKET}/output/spend/", "--report", str(tmp_path / "report"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    both = pd.concat(parts)
    predicted = model.predict(both[tabular.NUMERIC])
    assert report["records"] == len(both)
    assert report["mae"] == pytest.approx(metrics.mean_absolute_error(both["spend"], predicted), rel=1e-5)
    assert report["rmse"] == pytest.approx(metrics.root_mean_squared_error(both["spend"], predicted), rel=1e-5)
    assert report["r2"] == pytest.approx(metrics.r2_score(both["spend"], predicted), rel=1e-5)
    assert (tmp_path / "report" / "residuals.png").stat().st_size > 1000
    assert np.isfinite(report["mean_error"])


def test_evaluating_what_was_scored_without_labels_says_how_to_get_them(tmp_path: Path) -> None:
    (tmp_path / "scored" / "a.csv").mkdir(parents=True)
    (tmp_path / "scored" / "a.csv" / "summary.json").write_text(json.dumps({"status": "scored", "records": {}}))
    result = run_cli("evaluate", str(tmp_path / "scored"))
    assert result.returncode == 3
    assert "has label counts: score with --label-column first" in one_error_line(result)


def _context() -> Any:
    from tests.testkit.aws import batch_context  # noqa: PLC0415

    return batch_context()
