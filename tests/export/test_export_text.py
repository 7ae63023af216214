"""GIVEN scikit-learn text classifiers (TfidfVectorizer + LogisticRegression) fitted on raw review texts WHEN exported
with a sample of texts (a list, a Series, a one-column CSV through the CLI) THEN the graph takes one string input
[batch, 1] named after the sample's column, records it as a one-column schema, loads where en_US.UTF-8 is not
installed, and answers as the pipeline does on accents and capitals; a TF-IDF setting skl2onnx gets wrong is
refused by the parity check with a hint saying what to change."""

from __future__ import annotations

import json
import pickle
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from model_export import ParityError, export_sklearn
from tests.testkit import text

Cli = Callable[..., subprocess.CompletedProcess[str]]
UNSEEN = ["Très bien, GREAT blender!", "CASSÉ après un jour", "où est the LID?", "", "zzqx"]


@pytest.fixture(scope="module")
def reviews() -> tuple[list[str], list[str]]:
    return text.reviews(300, seed=1)


def served(path: Path, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    graph = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    labels, probabilities = graph.run(None, {graph.get_inputs()[0].name: np.array(texts, dtype=object).reshape(-1, 1)})
    return labels, probabilities


def test_a_list_of_texts_gives_one_string_input_and_the_pipelines_answers_on_accents_and_capitals(
    tmp_path: Path, reviews: tuple[list[str], list[str]]
) -> None:
    texts, labels = reviews
    model = text.classifier(texts, labels)
    report = export_sklearn(model, tmp_path / "reviews.onnx", sample=texts[:50])
    graph = ort.InferenceSession(str(tmp_path / "reviews.onnx"), providers=["CPUExecutionProvider"])
    assert [(node.name, node.type, node.shape) for node in graph.get_inputs()] == [
        ("text", "tensor(string)", ["batch", 1])
    ]
    metadata = graph.get_modelmeta().custom_metadata_map
    assert json.loads(metadata["columns"]) == [
        {"name": "text", "type": "string", "missing": False, "categories": None, "unseen": True}
    ]
    assert report.class_labels == tuple(text.CLASSES)
    got_labels, probabilities = served(tmp_path / "reviews.onnx", UNSEEN)
    assert got_labels.tolist() == model.predict(UNSEEN).tolist()
    np.testing.assert_allclose(probabilities, model.predict_proba(UNSEEN), atol=1e-5)


def test_every_string_normalizer_names_a_locale_this_machine_and_lambda_have(
    tmp_path: Path, reviews: tuple[list[str], list[str]]
) -> None:
    import onnx  # noqa: PLC0415 - export-time only

    texts, labels = reviews
    export_sklearn(text.classifier(texts, labels), tmp_path / "reviews.onnx", sample=texts[:20])
    nodes = [
        node for node in onnx.load(str(tmp_path / "reviews.onnx")).graph.node if node.op_type == "StringNormalizer"
    ]
    assert nodes, "the TF-IDF graph lowercases with a StringNormalizer"
    for node in nodes:
        assert {attribute.name: attribute.s for attribute in node.attribute}["locale"] == b"C.UTF-8"


def test_a_series_sample_names_the_input_after_itself(tmp_path: Path, reviews: tuple[list[str], list[str]]) -> None:
    texts, labels = reviews
    export_sklearn(text.classifier(texts, labels), tmp_path / "r.onnx", sample=pd.Series(texts[:30], name="review"))
    graph = ort.InferenceSession(str(tmp_path / "r.onnx"), providers=["CPUExecutionProvider"])
    assert [node.name for node in graph.get_inputs()] == ["review"]


def test_the_cli_reads_a_one_column_csv_of_texts_as_the_sample(
    tmp_path: Path, cli: Cli, reviews: tuple[list[str], list[str]]
) -> None:
    texts, labels = reviews
    (tmp_path / "reviews.pkl").write_bytes(pickle.dumps(text.classifier(texts, labels)))
    pd.DataFrame({"review": texts[:40]}).to_csv(tmp_path / "sample.csv", index=False)
    result = cli("sklearn", "reviews.pkl", "--sample", "sample.csv", "-o", "reviews.onnx", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    graph = ort.InferenceSession(str(tmp_path / "reviews.onnx"), providers=["CPUExecutionProvider"])
    assert [(node.name, node.type) for node in graph.get_inputs()] == [("review", "tensor(string)")]


def test_sublinear_tf_is_refused_by_parity_with_the_reason_and_the_fix(
    tmp_path: Path, reviews: tuple[list[str], list[str]]
) -> None:
    texts, labels = reviews
    model = Pipeline([("tfidf", TfidfVectorizer(sublinear_tf=True)), ("model", LogisticRegression())]).fit(
        texts, labels
    )
    with pytest.raises(ParityError) as raised:
        export_sklearn(model, tmp_path / "r.onnx", sample=texts[:60])
    assert "hint: skl2onnx 1.20 computes TF-IDF's sublinear_tf=True as log(1 + tf)" in str(raised.value)
    assert "refit with sublinear_tf=False" in str(raised.value)
    assert not (tmp_path / "r.onnx").exists()
