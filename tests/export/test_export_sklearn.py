"""GIVEN fitted scikit-learn models WHEN exported THEN the ONNX file answers as scikit-learn does, for any
batch, and describes itself; or the export is refused with a typed error and nothing is written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from model_export import (
    NotAModelError,
    ParityError,
    ShapeMismatchError,
    UnsupportedModelError,
    export_sklearn,
)

RunOnnx = Callable[[Path, np.ndarray], dict[str, np.ndarray]]
Data = tuple[np.ndarray, np.ndarray]


def test_classifier_export_serves_labels_and_probabilities_like_sklearn_for_any_batch(
    tmp_path: Path, classification_data: Data, run_onnx: RunOnnx
) -> None:
    x, y = classification_data
    model = LogisticRegression(max_iter=1000).fit(x, y)
    report = export_sklearn(model, tmp_path / "clf.onnx")
    for rows in (1, 37):
        batch = x[:rows]
        outputs = run_onnx(report.path, batch)
        assert outputs["label"].shape == (rows,)
        assert list(outputs["label"]) == list(model.predict(batch))
        assert outputs["probabilities"].dtype == np.float32
        np.testing.assert_allclose(outputs["probabilities"], model.predict_proba(batch), atol=1e-5)
    assert report.class_labels == ("ant", "bee", "cat")
    assert report.parity.class_agreement == 1.0
    assert report.parity.samples == 64 + 1  # 64 generated rows, then a batch of another size


def test_regressor_export_has_one_float_output_named_output(tmp_path: Path, run_onnx: RunOnnx) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(80, 5)).astype(np.float32)
    model = Ridge().fit(x, x @ np.arange(1.0, 6.0) + 3.0)
    report = export_sklearn(model, tmp_path / "reg.onnx", model_name="ridge", model_version="7")
    outputs = run_onnx(report.path, x[:37])
    assert list(outputs) == ["output"]
    assert outputs["output"].dtype == np.float32
    np.testing.assert_allclose(outputs["output"].ravel(), model.predict(x[:37]), rtol=1e-4)
    assert (report.task, report.model_name, report.model_version, report.class_labels) == (
        "regression",
        "ridge",
        "7",
        None,
    )


def test_pipeline_probabilities_are_a_plain_tensor_not_a_zipmap(
    tmp_path: Path, classification_data: Data, run_onnx: RunOnnx
) -> None:
    x, y = classification_data
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
    report = export_sklearn(model, tmp_path / "pipe.onnx", sample=x[:50], class_labels=["A", "B", "C"])
    probabilities = run_onnx(report.path, x[:3])["probabilities"]
    assert isinstance(probabilities, np.ndarray)
    assert probabilities.shape == (3, 3)
    assert report.class_labels == ("A", "B", "C")
    assert report.parity.samples == 50 + 1


def test_metadata_describes_the_model_in_parseable_values(
    tmp_path: Path, classification_data: Data, read_metadata: Callable[[Path], dict[str, str]]
) -> None:
    x, y = classification_data
    model = LogisticRegression(max_iter=1000).fit(x, y)
    report = export_sklearn(model, tmp_path / "m.onnx", description="three insects", test_accuracy=0.875)
    meta = read_metadata(report.path)
    assert meta["model_name"] == "m"
    assert meta["model_version"] == "1"
    assert meta["task"] == "classification"
    assert json.loads(meta["class_labels"]) == ["ant", "bee", "cat"]
    assert set(json.loads(meta["inputs"])) == {"input"}
    assert "[batch, 6]" in json.loads(meta["inputs"])["input"]
    assert set(json.loads(meta["outputs"])) == {"label", "probabilities"}
    assert meta["source_framework"] == "scikit-learn"
    assert meta["converter"].startswith("skl2onnx ")
    assert meta["exporter"].startswith("onnx-lambda model_export ")
    assert meta["exported_at"].endswith("Z")
    parity = json.loads(meta["parity"])
    assert set(parity) == {"samples", "max_abs_diff", "max_rel_diff", "atol", "rtol", "class_agreement", "batch_sizes"}
    assert parity["max_abs_diff"] <= parity["atol"]
    assert len(parity["batch_sizes"]) == 2  # the sample, and a batch of another size: the batch axis proven
    assert float(meta["test_accuracy"]) == 0.875
    assert meta["description"] == "three insects"
    assert meta["content_sha256"] == report.content_sha256


def test_float32_precision_loss_is_refused_with_parity_error_and_the_old_file_is_kept(tmp_path: Path) -> None:
    # Features near 1e8: float32 (what ONNX computes in) has a spacing of 8 there, so predictions drift.
    rng = np.random.default_rng(0)
    x = 1e8 + rng.normal(scale=1000, size=(200, 3))
    model = LinearRegression().fit(x, x @ [1.5, -2.0, 0.5] + rng.normal(size=200))
    target = tmp_path / "big.onnx"
    target.write_bytes(b"the previous model")
    with pytest.raises(ParityError, match=r"atol=0\.0001 \+ rtol=0\.001") as caught:
        export_sklearn(model, target, sample=x.astype(np.float32))
    assert caught.value.figures["max_abs_diff"] > 1.0
    assert target.read_bytes() == b"the previous model"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["big.onnx"]  # no temp file left behind


def test_rows_on_the_decision_boundary_flip_classes_and_are_refused_by_class_agreement(tmp_path: Path) -> None:
    # Probabilities agree to ~1e-7, but on the boundary float32 rounding decides the class.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    model = LogisticRegression().fit(x, (x @ [1.0, 2.0] > 0.3).astype(int))
    weights, bias = model.coef_[0], model.intercept_[0]
    along = np.array([-weights[1], weights[0]]) / np.linalg.norm(weights)
    boundary = -bias * weights / (weights @ weights) + np.linspace(-50, 50, 400)[:, None] * along
    with pytest.raises(ParityError, match=r"predicted classes agree on .* below the required 99\.00%") as caught:
        export_sklearn(model, tmp_path / "m.onnx", sample=boundary.astype(np.float32))
    assert caught.value.figures["max_abs_diff"] <= caught.value.figures["atol"]
    assert caught.value.figures["class_agreement"] < 0.99
    assert not (tmp_path / "m.onnx").exists()


def test_feature_count_that_does_not_fit_is_a_shape_mismatch(tmp_path: Path, classification_data: Data) -> None:
    x, y = classification_data
    model = LogisticRegression(max_iter=1000).fit(x, y)
    with pytest.raises(ShapeMismatchError, match=r"gives 5 features but the LogisticRegression was fitted on 6"):
        export_sklearn(model, tmp_path / "m.onnx", n_features=5)
    assert not (tmp_path / "m.onnx").exists()


def test_class_labels_must_match_the_number_of_classes(tmp_path: Path, classification_data: Data) -> None:
    x, y = classification_data
    model = LogisticRegression(max_iter=1000).fit(x, y)
    with pytest.raises(ShapeMismatchError, match="2 class labels were given but the LogisticRegression has 3"):
        export_sklearn(model, tmp_path / "m.onnx", class_labels=["yes", "no"])


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"weights": [1, 2]}, "a dict is not a model: it has no predict"),
        (LogisticRegression(), "the LogisticRegression is not fitted"),
    ],
)
def test_objects_that_are_not_fitted_models_are_refused(tmp_path: Path, model: object, message: str) -> None:
    with pytest.raises(NotAModelError, match=message):
        export_sklearn(model, tmp_path / "m.onnx", n_features=3)


def test_classifier_without_predict_proba_is_unsupported(tmp_path: Path, classification_data: Data) -> None:
    x, y = classification_data
    model = LinearSVC().fit(x, y)
    with pytest.raises(UnsupportedModelError, match=r"LinearSVC is a classifier without predict_proba"):
        export_sklearn(model, tmp_path / "m.onnx")
