"""Model outputs as per-instance predictions: the one place /predict and the batch files get them from.

Classifiers give each instance its label (from the model's class_labels when they match the width of
the probabilities, else the column index), the winning score and every class probability; other models
give their raw outputs per instance.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from handler.codec import to_json_list
from handler.model import ModelInfo


def class_names(info: ModelInfo, classes: int) -> list[str]:
    """The name of each probability column."""
    labels = info.class_labels if info.class_labels and len(info.class_labels) == classes else None
    return list(labels) if labels else [str(index) for index in range(classes)]


def finite_rows(results: dict[str, np.ndarray]) -> np.ndarray:
    """Per instance, whether every float output is finite (JSON cannot carry NaN or Infinity)."""
    count = len(next(iter(results.values())))
    keep = np.ones(count, dtype=bool)
    for array in results.values():
        if array.dtype.kind == "f" and array.ndim:
            keep &= np.isfinite(array.reshape(count, -1)).all(axis=1)
    return keep


def prediction_dicts(info: ModelInfo, results: dict[str, np.ndarray], top_k: int | None = None) -> list[dict[str, Any]]:
    """One JSON-ready prediction per instance: label, score, probabilities (the ``top_k`` most probable only, best
    first, when asked); a generator's text; or raw outputs."""
    if info.generator is not None:
        return [{"text": text} for text in to_json_list(results["text"])]
    if not info.probabilities_output:
        columns = {name: to_json_list(array) for name, array in results.items()}
        count = len(next(iter(columns.values())))
        return [{"outputs": {name: values[index] for name, values in columns.items()}} for index in range(count)]
    probabilities = results[info.probabilities_output]
    names = class_names(info, probabilities.shape[1])
    if top_k is not None:
        return _top_k(names, probabilities, top_k)
    winners = probabilities.argmax(axis=1).tolist()
    return [
        {"label": names[winner], "score": row[winner], "probabilities": dict(zip(names, row, strict=True))}
        for winner, row in zip(winners, probabilities.tolist(), strict=True)
    ]


def _top_k(names: list[str], probabilities: np.ndarray, k: int) -> list[dict[str, Any]]:
    """Each instance's ``k`` most probable classes, best first (ties in column order, as argmax breaks them)."""
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k].tolist()
    rows = probabilities.tolist()
    predictions = []
    for best, row in zip(order, rows, strict=True):
        top = {names[column]: row[column] for column in best}
        predictions.append({"label": names[best[0]], "score": row[best[0]], "probabilities": top})
    return predictions
