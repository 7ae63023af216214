"""The counts that make a scored file's metrics, kept while it is scored, so a prefix scored in AWS can be
evaluated from its summaries alone (``onnx-lambda evaluate``), without reading its inputs again.

With a label column configured (BATCH_LABEL_COLUMN, ``score --label-column``), each scored record's true value
is compared with its prediction: for a classifier a confusion count per (true, predicted) pair and the sum of
-log(probability of the true class); for a regressor the sums that give MAE, RMSE and R². numpy only: the
metrics themselves are computed by the eval extra, outside the image.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from handler.model import ModelInfo
from handler.predictions import class_names

LOG_LOSS_FLOOR = 1e-15  # scikit-learn's clip for log loss: a probability of 0 costs -log(1e-15), not infinity
SAMPLE_PAIRS = 1000  # (true, predicted) pairs a regression's summary keeps for the residual plot: the first ones


def _text(value: Any) -> str | None:
    """A label as its text: None for a missing one (null, or an empty CSV cell)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value)
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))  # 1.0 from a float column names class "1"
    return text if text.strip() else None


@dataclass
class LabelCounts:
    """What the scored records of one file say about the model against their labels."""

    column: str
    task: str
    records: int = 0  # labelled records scored
    missing: int = 0  # scored records without a label
    unreadable: int = 0  # regression labels that are not numbers; classification labels no class has
    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    log_loss_sum: float = 0.0
    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(("y", "y2", "error", "abs", "sq"), 0.0))
    sample: list[tuple[float, float]] = field(default_factory=list)

    def add(self, info: ModelInfo, labels: Sequence[Any], results: dict[str, np.ndarray]) -> None:
        """Count one chunk's scored records: ``labels`` are their true values, in the order of ``results``."""
        texts = [_text(label) for label in labels]
        self.missing += sum(text is None for text in texts)
        if info.probabilities_output:
            self._add_classes(info, texts, results[info.probabilities_output])
        else:
            self._add_values(texts, next(iter(results.values())))

    def _add_classes(self, info: ModelInfo, texts: list[str | None], probabilities: np.ndarray) -> None:
        names = class_names(info, probabilities.shape[1])
        column = {name: index for index, name in enumerate(names)}
        winners = probabilities.argmax(axis=1).tolist()
        for text, winner, row in zip(texts, winners, probabilities, strict=True):
            if text is None:
                continue
            self.records += 1
            self.pairs[(text, names[winner])] += 1
            if text in column:
                self.log_loss_sum -= math.log(max(float(row[column[text]]), LOG_LOSS_FLOOR))
            else:
                self.unreadable += 1

    def _add_values(self, texts: list[str | None], predictions: np.ndarray) -> None:
        predicted = predictions.reshape(len(predictions), -1)[:, 0].astype(np.float64)
        for text, value in zip(texts, predicted.tolist(), strict=True):
            if text is None:
                continue
            try:
                truth = float(text)
            except ValueError:
                self.unreadable += 1
                continue
            self.records += 1
            error = value - truth
            amounts = {"y": truth, "y2": truth * truth, "error": error, "abs": abs(error), "sq": error * error}
            for key, amount in amounts.items():
                self.sums[key] += amount
            if len(self.sample) < SAMPLE_PAIRS:
                self.sample.append((truth, value))

    def as_json(self) -> dict[str, Any]:
        """The summary's ``labels`` object."""
        counts: dict[str, Any] = {
            "column": self.column,
            "task": self.task,
            "records": self.records,
            "missing": self.missing,
            "unreadable": self.unreadable,
        }
        if self.task == "classification":
            labels = sorted({name for pair in self.pairs for name in pair})
            index = {name: position for position, name in enumerate(labels)}
            matrix = [[0] * len(labels) for _ in labels]
            for (truth, predicted), count in self.pairs.items():
                matrix[index[truth]][index[predicted]] += count
            counts["confusion"] = {"labels": labels, "matrix": matrix}  # rows: true label; columns: predicted
            counts["log_loss_sum"] = round(self.log_loss_sum, 9)
        else:
            counts["sums"] = {key: round(value, 9) for key, value in self.sums.items()}
            counts["sample"] = [[truth, predicted] for truth, predicted in self.sample]
        return counts
