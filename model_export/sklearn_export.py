"""scikit-learn estimators and pipelines to ONNX through skl2onnx.

Classifiers get two tensor outputs, ``label`` and ``probabilities`` (ZipMap off, so the server reads a
plain [batch, classes] tensor); regressors one, ``output``. The input is ``input``, float32
[batch, n_features].
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from model_export.artifact import ExportReport, finish
from model_export.deps import require
from model_export.errors import NotAModelError, ShapeMismatchError, UnsupportedModelError
from model_export.metadata import ModelCard, checked_labels
from model_export.parity import DEFAULT_TOLERANCE, Tolerance


def _features(model: Any, n_features: int | None, sample: np.ndarray | None) -> int:
    known = getattr(model, "n_features_in_", None)
    given = n_features if n_features is not None else (sample.shape[1] if sample is not None else None)
    if sample is not None and sample.ndim != 2:
        raise ShapeMismatchError(f"sample data has shape {list(sample.shape)}; expected [rows, features]")
    if known is not None and given is not None and known != given:
        raise ShapeMismatchError(f"{type(model).__name__} was fitted on {known} features, but {given} were given")
    features = known if known is not None else given
    if features is None:
        raise ShapeMismatchError(f"{type(model).__name__} does not record its feature count: pass --n-features")
    return int(features)


def _convert(model: Any, features: int, classifier: bool) -> Any:
    skl2onnx = require("skl2onnx")
    from skl2onnx.common.data_types import FloatTensorType  # noqa: PLC0415 - skl2onnx is optional

    options = {id(model): {"zipmap": False}} if classifier else None
    final_types = None if classifier else [("output", FloatTensorType([None, None]))]
    try:
        return skl2onnx.to_onnx(
            model,
            initial_types=[("input", FloatTensorType([None, features]))],
            options=options,
            final_types=final_types,
        )
    except Exception as exc:  # skl2onnx raises RuntimeError, MissingShapeCalculator, NotImplementedError...
        raise UnsupportedModelError(f"skl2onnx cannot convert {type(model).__name__}: {exc}") from None


def _runner(model: Any, classifier: bool) -> Any:
    def run(batch: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        if classifier:
            return {"probabilities": model.predict_proba(batch)}, model.predict(batch)
        prediction = np.asarray(model.predict(batch))
        return {"output": prediction.reshape(len(batch), -1)}, None

    return run


def export_sklearn(
    model: Any,
    path: Path,
    *,
    n_features: int | None = None,
    sample: np.ndarray | None = None,
    class_labels: list[str] | None = None,
    model_name: str | None = None,
    model_version: str = "1",
    description: str | None = None,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
    test_accuracy: float | None = None,
) -> ExportReport:
    """Convert, check parity and write; raises NotAModel, Unsupported, ShapeMismatch or Parity errors."""
    sklearn = require("sklearn")
    if not hasattr(model, "predict"):
        raise NotAModelError(f"a {type(model).__name__} is not a scikit-learn model (it has no predict)")
    features = _features(model, n_features, sample)
    classifier = bool(sklearn.base.is_classifier(model)) and hasattr(model, "predict_proba")
    onnx_model = _convert(model, features, classifier)
    batches = [sample] if sample is not None else [np.random.default_rng(0).normal(size=(64, features))]
    batches = [b.astype(np.float32) for b in batches] + [batches[0][:5].astype(np.float32)]
    classes = [str(c) for c in getattr(model, "classes_", [])] if classifier else None
    card = ModelCard(
        name=model_name or path.stem,
        version=model_version,
        task="classification" if classifier else "regression",
        inputs={"input": f"float32 [batch, {features}]: one row of {features} features per instance"},
        outputs=_outputs(classifier),
        source_framework="scikit-learn",
        source_framework_version=sklearn.__version__,
        converter=f"skl2onnx {require('skl2onnx').__version__}",
        class_labels=checked_labels(class_labels, classes) if classifier else None,
        description=description,
        test_accuracy=test_accuracy,
    )
    return finish(
        onnx_model, card, run_source=_runner(model, classifier), batches=batches, tolerance=tolerance, path=path
    )


def _outputs(classifier: bool) -> dict[str, str]:
    if classifier:
        return {
            "label": "[batch]: the predicted class (the estimator's class value)",
            "probabilities": "float32 [batch, classes]: probability of each class, in class_labels order",
        }
    return {"output": "float32 [batch, targets]: the predicted value(s)"}
