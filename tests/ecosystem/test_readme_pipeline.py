"""GIVEN the "Serve a scikit-learn pipeline" section (docs/examples.md) WHEN a newcomer copies its file into an empty
folder and runs its commands as written (the server in the background, as the page starts it) THEN the exported
pipeline answers the page's curl exactly as pipeline.predict does on the same rows, and scoring the labelled
CSV reports the accuracy scikit-learn computes, with a confusion matrix that is a real PNG image.

The section is run by testkit.readme_examples, as a newcomer runs it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score

from tests.testkit.readme_examples import example, ran


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[Any]]]:
    """The folder after the section's commands ran in it, and each curl's request and answer."""
    assert example("pipeline").outline() == (
        ["train_customers.py"],
        [
            ["python", "train_customers.py"],
            ["onnx-lambda", "export"],
            ["onnx-lambda", "serve"],
            ["curl", "-s"],
            ["onnx-lambda", "score"],
        ],
    )
    where = tmp_path_factory.mktemp("pipeline-newcomer")
    with ran("pipeline", where) as printed:
        yield where, [(json.loads(curl.argument("-d")), json.loads(curl.stdout)) for curl in printed]


def test_the_readme_curl_gets_the_pipelines_own_predictions_with_nulls_and_unseen_cities(
    newcomer: tuple[Path, list[Any]],
) -> None:
    where, printed = newcomer
    [(request, answer)] = printed
    pipeline = joblib.load(where / "customers.joblib")
    rows = pd.DataFrame(request["instances"], columns=["age", "income", "city", "visits"])
    assert [p["label"] for p in answer["predictions"]] == list(pipeline.predict(rows))
    probabilities = pipeline.predict_proba(rows)
    served = [[p["probabilities"][label] for label in pipeline.classes_] for p in answer["predictions"]]
    np.testing.assert_allclose(served, probabilities, atol=1e-5)


def test_scoring_the_labelled_csv_reports_scikit_learns_accuracy_and_a_real_confusion_image(
    newcomer: tuple[Path, list[Any]],
) -> None:
    where, _ = newcomer
    table = pd.read_csv(where / "customers.csv")
    pipeline = joblib.load(where / "customers.joblib")
    report = json.loads((where / "scored" / "metrics.json").read_text())
    expected = accuracy_score(table["churned"], pipeline.predict(table.drop(columns="churned")))
    assert report["records"] == len(table)
    assert report["accuracy"] == pytest.approx(expected, abs=1e-12)
    summary = json.loads((where / "scored" / "customers.csv" / "summary.json").read_text())
    assert summary["records"] == {"in": len(table), "scored": len(table), "failed": 0}
    image = matplotlib.image.imread(where / "scored" / "confusion.png")
    assert image.ndim == 3
    assert image.shape[0] > 100
    assert image.std() > 0.01  # not a blank canvas
    assert "| *macro avg* |" in (where / "scored" / "metrics.md").read_text()
