"""The built-in default models: scikit-learn's bundled digits (no download), trained two ways.

Trains a scikit-learn pipeline and a small PyTorch CNN on the same stratified split, reports held-out
accuracy, and exports both with the parity check run on the held-out images. ``digits-test.npz`` keeps
those images (X float32 [n, 1, 8, 8], pixels 0-16) and labels (y int64) for the demo to send.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from handler.contract import human_bytes
from model_export.deps import require
from model_export.options import DEFAULT_MAX_ACCURACY_DROP
from model_export.report import ExportReport
from model_export.sklearn_export import export_sklearn
from model_export.torch_export import export_torch
from model_export.writer import write_atomic

LABELS = [str(digit) for digit in range(10)]
DESCRIPTION = "{kind} trained on scikit-learn's bundled 8x8 digits (1797 images, 80/20 stratified split, seed {seed})"


@dataclass(frozen=True)
class Split:
    """Train and held-out images [n, 1, 8, 8] float32 (pixels 0-16) and labels int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class DigitsResult:
    """One trained and exported default model."""

    report: ExportReport
    accuracy: float
    seconds: float


def load_split(seed: int) -> Split:
    """The bundled digits split 80/20, stratified by class; raises MissingDependencyError without sklearn."""
    digits = require("sklearn.datasets").load_digits()
    train_test_split = require("sklearn.model_selection").train_test_split
    images = digits.images.astype(np.float32)[:, None, :, :]
    labels = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=0.2, random_state=seed, stratify=labels
    )
    return Split(x_train, y_train, x_test, y_test)


def _flat(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1)


def train_sklearn(split: Split) -> tuple[Any, float]:
    """StandardScaler then LogisticRegression on the 64 pixels; returns the model and held-out accuracy."""
    pipeline, preprocessing = require("sklearn.pipeline"), require("sklearn.preprocessing")
    logistic = require("sklearn.linear_model").LogisticRegression(max_iter=2000)
    model = pipeline.Pipeline([("scale", preprocessing.StandardScaler()), ("classify", logistic)])
    model.fit(_flat(split.x_train), split.y_train)
    return model, float(model.score(_flat(split.x_test), split.y_test))


def export_digits_sklearn(split: Split, out_dir: Path, seed: int, optimize: bool = False) -> DigitsResult:
    """Train and export digits-sklearn.onnx (input float32 [batch, 64]); raises ExportError.

    Never quantized: skl2onnx writes the logistic regression as one LinearClassifier node, which has no
    MatMul for dynamic int8 to quantize.
    """
    started = time.perf_counter()
    model, accuracy = train_sklearn(split)
    print(f"digits-sklearn: StandardScaler + LogisticRegression, held-out accuracy {accuracy:.4f}", flush=True)
    report = export_sklearn(
        model,
        out_dir / "digits-sklearn.onnx",
        sample=_flat(split.x_test),
        class_labels=LABELS,
        model_name="digits-sklearn",
        description=DESCRIPTION.format(kind="StandardScaler + LogisticRegression", seed=seed),
        input_description="float32 [batch, 64]: 8x8 digit image flattened row by row, pixel values 0-16",
        test_accuracy=accuracy,
        optimize=optimize,
    )
    return DigitsResult(report, accuracy, time.perf_counter() - started)


def export_digits_cnn(
    split: Split,
    out_dir: Path,
    seed: int,
    *,
    optimize: bool = False,
    quantize: str | None = None,
    max_accuracy_drop: float = DEFAULT_MAX_ACCURACY_DROP,
) -> DigitsResult:
    """Train and export digits-cnn.onnx (input float32 [batch, 1, 8, 8]); raises ExportError.

    ``quantize="int8"`` also writes digits-cnn.int8.onnx, judged on the held-out split (the images the
    parity check runs on).
    """
    require("torch")
    from model_export import digits_torch  # noqa: PLC0415 - imports torch, so only when the CNN is trained

    started = time.perf_counter()
    model = digits_torch.train_cnn(split.x_train, split.y_train, seed)
    score = digits_torch.accuracy(model, split.x_test, split.y_test)
    print(f"digits-cnn: small CNN, {digits_torch.EPOCHS} epochs of Adam, held-out accuracy {score:.4f}", flush=True)
    report = export_torch(
        model,
        out_dir / "digits-cnn.onnx",
        sample=split.x_test,
        task="classification",
        outputs_kind="logits",
        class_labels=LABELS,
        model_name="digits-cnn",
        description=DESCRIPTION.format(kind="PyTorch CNN (2 conv, 2 dense layers)", seed=seed),
        input_description="float32 [batch, 1, 8, 8]: 8x8 digit image, pixel values 0-16",
        test_accuracy=score,
        optimize=optimize,
        quantize=quantize,
        eval_data=(split.x_test, split.y_test),
        max_accuracy_drop=max_accuracy_drop,
    )
    return DigitsResult(report, score, time.perf_counter() - started)


def save_test_set(split: Split, out_dir: Path) -> Path:
    """digits-test.npz with the held-out X float32 [n, 1, 8, 8] and y int64, written atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, X=split.x_test.astype(np.float32), y=split.y_test.astype(np.int64))
    path = out_dir / "digits-test.npz"
    write_atomic(buffer.getvalue(), path)
    return path


def build_default_models(
    out_dir: Path,
    seed: int = 0,
    *,
    optimize: bool = False,
    quantize: str | None = None,
    max_accuracy_drop: float = DEFAULT_MAX_ACCURACY_DROP,
) -> list[DigitsResult]:
    """Both default models and the held-out set, in ``out_dir``; raises ExportError on any failure.

    ``optimize`` applies to both models; ``quantize`` and ``max_accuracy_drop`` to the CNN only.
    """
    for package in ("sklearn", "skl2onnx", "torch", "onnx"):
        require(package)
    split = load_split(seed)
    results = [
        export_digits_sklearn(split, out_dir, seed, optimize),
        export_digits_cnn(
            split, out_dir, seed, optimize=optimize, quantize=quantize, max_accuracy_drop=max_accuracy_drop
        ),
    ]
    save_test_set(split, out_dir)
    return results


def render_table(results: list[DigitsResult]) -> str:
    """model, accuracy, parity max abs diff, class agreement, size, path: one row per model."""
    header = f"{'model':<15} {'accuracy':>8} {'parity max|diff|':>16} {'agreement':>9} {'size':>9}  path"
    rows = [header, "-" * len(header)]
    for result in results:
        report = result.report
        agreement = report.parity.class_agreement
        rows.append(
            f"{report.model_name:<15} {result.accuracy:>8.4f} {report.parity.max_abs_diff:>16.2e} "
            f"{'-' if agreement is None else f'{agreement:.2%}':>9} {human_bytes(report.size_bytes):>9}  {report.path}"
        )
    return "\n".join(rows)
