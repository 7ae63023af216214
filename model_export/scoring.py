"""How a model is scored on held-out data, to judge what int8 quantization costs.

Classifiers by accuracy: the served ``label`` against the true labels ``y`` (class indices are named
by ``class_labels`` when ``y`` holds names). Other models by R² of their one output against ``y``,
averaged over columns as scikit-learn's ``score()`` does: a regressor has no accuracy, and R² is the
same kind of number (1 is perfect), so one absolute ``max_accuracy_drop`` can judge both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from model_export.errors import ShapeMismatchError, UnsupportedModelError
from model_export.parity import INPUT_NAME, ParitySpec

EVAL_CHUNK = 1024  # rows per session.run, so a large held-out set never needs one huge batch


def predict(session: Any, x: np.ndarray) -> dict[str, np.ndarray]:
    """Every output for all rows of ``x``, run in chunks; raises ShapeMismatchError when x does not fit."""
    names = [output.name for output in session.get_outputs()]
    chunks: list[list[np.ndarray]] = [[] for _ in names]
    for start in range(0, len(x), EVAL_CHUNK):
        try:
            results = session.run(None, {INPUT_NAME: x[start : start + EVAL_CHUNK]})
        except Exception as exc:  # onnxruntime names the input and the dimension that does not fit
            raise ShapeMismatchError(f"the held-out x of shape {list(x.shape)} does not fit the model: {exc}") from None
        for chunk, result in zip(chunks, results, strict=True):
            chunk.append(np.asarray(result))
    return {name: np.concatenate(chunk) for name, chunk in zip(names, chunks, strict=True)}


def _accuracy(served: np.ndarray, y: np.ndarray, class_labels: Sequence[str] | None) -> float:
    """Share of rows whose served label equals y; class indices (served, or in y) are named by class_labels when the
    other side holds names."""
    served, y = served.ravel(), y.ravel()
    if served.size != y.size:
        raise ShapeMismatchError(f"the held-out y holds {y.size} labels for {served.size} predictions")
    if served.dtype.kind in "iu" and y.dtype.kind in "USO" and class_labels is not None:
        served = np.asarray(class_labels)[served]
    if (
        y.dtype.kind in "iu"
        and served.dtype.kind in "USO"
        and class_labels is not None
        and 0 <= y.min() <= y.max() < len(class_labels)
    ):
        y = np.asarray(class_labels)[y]
    if served.dtype.kind in "iufb" and y.dtype.kind in "iufb":
        return float(np.mean(served == y))
    return float(np.mean(served.astype(str) == y.astype(str)))


def _r2(predicted: np.ndarray, y: np.ndarray) -> float:
    """Coefficient of determination, averaged over output columns as scikit-learn's score() does."""
    got = predicted.reshape(len(predicted), -1).astype(np.float64)
    if y.dtype.kind not in "iufb":
        raise ShapeMismatchError(f"the held-out y holds {y.dtype} values; a regressor is scored on numbers")
    if y.size != got.size:
        raise ShapeMismatchError(f"the held-out y has shape {list(y.shape)}; the model outputs {list(got.shape)}")
    want = y.reshape(got.shape).astype(np.float64)
    total = np.sum((want - want.mean(axis=0)) ** 2, axis=0)
    if not np.all(total > 0):
        raise ShapeMismatchError("the held-out y is constant in some column, so R² is undefined")
    return float(np.mean(1 - np.sum((want - got) ** 2, axis=0) / total))


def score(outputs: Mapping[str, np.ndarray], y: np.ndarray, spec: ParitySpec, labels: Sequence[str] | None) -> float:
    """The model's score on the held-out data: accuracy of ``spec.label``, else R² of its one output."""
    if spec.label is not None:
        return _accuracy(outputs[spec.label], y, labels)
    return _r2(outputs[spec.compare[0]], y)


def metric_of(spec: ParitySpec) -> str:
    """accuracy for classifiers; R² for models with one numeric output; anything else is refused."""
    if spec.label is not None:
        return "accuracy"
    if len(spec.compare) != 1:
        raise UnsupportedModelError(
            f"quantization judges a regressor by R² of its one output; this model has {len(spec.compare)} outputs"
        )
    return "r2"
