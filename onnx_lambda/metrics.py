"""Metrics of scored files, from the label counts their summaries carry (handler.batch.label_counts).

Classification: accuracy, per-class precision / recall / F1 with their macro and weighted averages (scikit-learn's
own functions, fed the confusion counts as sample weights, so the figures are exactly those it computes on the
rows), log loss where the model gives probabilities, and the confusion matrix. Regression: MAE, RMSE and R² from
the sums, and a residual plot from the pairs the summaries keep. scikit-learn and matplotlib are the ``eval``
extra: they never enter the image.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import IO, Any

from onnx_lambda.errors import InputError

EVAL_HINT = "pip install 'onnx-lambda[eval]' (scikit-learn and matplotlib)"


def _require(name: str) -> Any:
    import importlib  # noqa: PLC0415

    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:
        raise InputError(f"evaluating needs {name.split('.', maxsplit=1)[0]}: {EVAL_HINT}") from None


def merged(counts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """One file's counts, or several files' added together; raises InputError for counts of different tasks."""
    given = list(counts)
    tasks = {entry["task"] for entry in given}
    if len(tasks) != 1:
        raise InputError(f"the summaries hold labels of {len(tasks)} kinds of task ({', '.join(sorted(tasks))})")
    total: dict[str, Any] = {"task": tasks.pop(), "column": given[0]["column"]}
    for key in ("records", "missing", "unreadable"):
        total[key] = sum(int(entry[key]) for entry in given)
    if total["task"] == "classification":
        pairs: Counter[tuple[str, str]] = Counter()
        for entry in given:
            labels, matrix = entry["confusion"]["labels"], entry["confusion"]["matrix"]
            for i, row in enumerate(matrix):
                for j, count in enumerate(row):
                    pairs[(labels[i], labels[j])] += int(count)
        total["pairs"] = pairs
        total["log_loss_sum"] = sum(float(entry.get("log_loss_sum", 0.0)) for entry in given)
    else:
        total["sums"] = {key: sum(float(entry["sums"][key]) for entry in given) for key in given[0]["sums"]}
        total["sample"] = [pair for entry in given for pair in entry.get("sample", [])]
    return total


def classification(total: Mapping[str, Any]) -> dict[str, Any]:
    """scikit-learn's classification figures over the confusion counts."""
    metrics = _require("sklearn.metrics")
    pairs = [(truth, predicted, count) for (truth, predicted), count in total["pairs"].items() if count]
    if not pairs:
        raise InputError("no labelled record was scored: nothing to evaluate")
    truth, predicted, weights = (list(part) for part in zip(*pairs, strict=True))
    labels = sorted({*truth, *predicted})
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        truth, predicted, labels=labels, sample_weight=weights, zero_division=0
    )
    averages = {
        average: dict(
            zip(
                ("precision", "recall", "f1"),
                metrics.precision_recall_fscore_support(
                    truth, predicted, labels=labels, sample_weight=weights, average=average, zero_division=0
                )[:3],
                strict=True,
            )
        )
        for average in ("macro", "weighted")
    }
    matrix = metrics.confusion_matrix(truth, predicted, labels=labels, sample_weight=weights)
    scored = total["records"] - total["unreadable"]
    return {
        "task": "classification",
        "records": total["records"],
        "accuracy": float(metrics.accuracy_score(truth, predicted, sample_weight=weights)),
        "per_class": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
        "macro": {key: float(value) for key, value in averages["macro"].items()},
        "weighted": {key: float(value) for key, value in averages["weighted"].items()},
        "log_loss": total["log_loss_sum"] / scored if scored else None,
        "confusion": {"labels": labels, "matrix": matrix.astype(int).tolist()},
    }


def regression(total: Mapping[str, Any]) -> dict[str, Any]:
    """MAE, RMSE and R² from the sums (R² is 1 - SSE / the labels' total sum of squares)."""
    n, sums = total["records"], total["sums"]
    if not n:
        raise InputError("no labelled record was scored: nothing to evaluate")
    spread = sums["y2"] - sums["y"] ** 2 / n
    return {
        "task": "regression",
        "records": n,
        "mae": sums["abs"] / n,
        "rmse": math.sqrt(sums["sq"] / n),
        "r2": 1 - sums["sq"] / spread if spread > 0 else None,
        "mean_error": sums["error"] / n,
    }


def evaluate(total: Mapping[str, Any]) -> dict[str, Any]:
    """The metrics of the merged counts, with how many records had no usable label."""
    figures = classification(total) if total["task"] == "classification" else regression(total)
    return figures | {"label_column": total["column"], "missing": total["missing"], "unreadable": total["unreadable"]}


def plot(total: Mapping[str, Any], figures: Mapping[str, Any], path: IO[bytes]) -> None:
    """The confusion matrix (classification) or the residuals against the predictions (regression), as PNG."""
    import numpy as np  # noqa: PLC0415 - not at import: every command of the CLI imports this module

    matplotlib = _require("matplotlib")
    matplotlib.use("Agg")
    pyplot = _require("matplotlib.pyplot")
    figure, axes = pyplot.subplots(figsize=(6, 5), dpi=100)
    if figures["task"] == "classification":
        display = _require("sklearn.metrics").ConfusionMatrixDisplay
        confusion = figures["confusion"]
        display(confusion_matrix=np.array(confusion["matrix"]), display_labels=confusion["labels"]).plot(
            ax=axes, colorbar=False
        )
        axes.set_title(f"confusion matrix ({figures['records']} records, accuracy {figures['accuracy']:.3f})")
    else:
        sample = total.get("sample") or []
        predicted = [pair[1] for pair in sample]
        axes.scatter(predicted, [pair[1] - pair[0] for pair in sample], s=8, alpha=0.6)
        axes.axhline(0, color="grey", linewidth=1)
        axes.set_xlabel("predicted")
        axes.set_ylabel("residual (predicted - true)")
        axes.set_title(f"residuals ({len(sample)} of {figures['records']} records, RMSE {figures['rmse']:.3g})")
    figure.tight_layout()
    figure.savefig(path, format="png")
    pyplot.close(figure)


def markdown(figures: Mapping[str, Any], image: str) -> str:
    """The report for people: the figures as tables, and the plot."""
    lines = [f"# Evaluation: label column `{figures['label_column']}`", ""]
    lines.append(
        f"{figures['records']} labelled records; {figures['missing']} without a label; "
        f"{figures['unreadable']} with a label the model cannot give."
    )
    lines.append("")
    if figures["task"] == "classification":
        lines += [
            f"accuracy **{figures['accuracy']:.4f}**"
            + (f", log loss {figures['log_loss']:.4f}" if figures["log_loss"] is not None else ""),
            "",
        ]
        lines += ["| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        for label, row in figures["per_class"].items():
            lines.append(
                f"| {label} | {row['precision']:.4f} | {row['recall']:.4f} | {row['f1']:.4f} | {row['support']} |"
            )
        for average in ("macro", "weighted"):
            row = figures[average]
            lines.append(f"| *{average} avg* | {row['precision']:.4f} | {row['recall']:.4f} | {row['f1']:.4f} | |")
    else:
        r2 = "n/a" if figures["r2"] is None else f"{figures['r2']:.4f}"
        lines += ["| MAE | RMSE | R² |", "|---|---|---|", f"| {figures['mae']:.4g} | {figures['rmse']:.4g} | {r2} |"]
    return "\n".join([*lines, "", f"![{figures['task']} plot]({image})", ""])
