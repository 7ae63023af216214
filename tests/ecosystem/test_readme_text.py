"""GIVEN the "Serve a text classifier" section (docs/examples.md) WHEN a newcomer copies its file into an empty folder
and runs its commands as written (the server in the background, as the page starts it) THEN the exported pipeline
answers the page's curl with pipeline.predict_proba's own classes, best first, on the same texts."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pytest

from tests.testkit.readme_examples import example, ran


def test_the_readme_curl_gets_the_pipelines_own_top_classes_for_its_texts(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    assert example("text").outline() == (
        ["train_reviews.py"],
        [
            ["python", "train_reviews.py"],
            ["onnx-lambda", "export"],
            ["onnx-lambda", "serve"],
            ["curl", "-s"],
        ],
    )
    where: Path = tmp_path_factory.mktemp("text-newcomer")
    with ran("text", where) as printed:
        [curl] = printed
    request, answer = json.loads(curl.argument("-d")), json.loads(curl.stdout)
    pipeline = joblib.load(where / "reviews.joblib")
    probabilities = pipeline.predict_proba(request["instances"])
    for prediction, row in zip(answer["predictions"], probabilities, strict=True):
        best = np.argsort(-row)[: request["top_k"]]
        assert list(prediction["probabilities"]) == [str(pipeline.classes_[index]) for index in best]
        np.testing.assert_allclose(list(prediction["probabilities"].values()), row[best], atol=1e-5)
    assert [p["label"] for p in answer["predictions"]] == list(pipeline.predict(request["instances"]))
