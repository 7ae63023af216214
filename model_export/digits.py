"""The built-in default model: scikit-learn's bundled digits (no download), two ways.

Trains a scikit-learn pipeline and a small PyTorch CNN on the same split, prints held-out accuracy,
and exports both with parity checked on the held-out set. The demo serves the CNN
(``digits-cnn.onnx``); ``digits-test.npz`` keeps the held-out images and labels for it.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model_export.artifact import ExportReport, write_atomically
from model_export.deps import require
from model_export.sklearn_export import export_sklearn
from model_export.torch_export import export_torch

LABELS = [str(digit) for digit in range(10)]
EPOCHS = 40


@dataclass(frozen=True)
class Split:
    """Train and held-out test data: images [n, 1, 8, 8] float32 with pixels 0-16, labels int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_split(seed: int) -> Split:
    """The bundled digits, split 80/20, stratified."""
    datasets, selection = require("sklearn.datasets"), require("sklearn.model_selection")
    bunch = datasets.load_digits()
    images = bunch.images.astype(np.float32)[:, None, :, :]
    x_tr, x_te, y_tr, y_te = selection.train_test_split(
        images, bunch.target.astype(np.int64), test_size=0.2, random_state=seed, stratify=bunch.target
    )
    return Split(x_tr, y_tr, x_te, y_te)


def train_sklearn(split: Split) -> tuple[Any, float]:
    """StandardScaler + LogisticRegression on flattened pixels; returns the model and test accuracy."""
    pipeline, preprocessing, linear = (
        require("sklearn.pipeline"),
        require("sklearn.preprocessing"),
        require("sklearn.linear_model"),
    )
    model = pipeline.make_pipeline(preprocessing.StandardScaler(), linear.LogisticRegression(max_iter=2000))
    model.fit(split.x_train.reshape(len(split.x_train), -1), split.y_train)
    accuracy = float(model.score(split.x_test.reshape(len(split.x_test), -1), split.y_test))
    return model, accuracy


def build_cnn() -> Any:
    """A small CNN for 8x8 digits that takes raw 0-16 pixels (it scales them itself)."""
    nn = require("torch.nn")

    class DigitsCNN(nn.Module):  # type: ignore[misc, name-defined]
        """Two 3x3 convolutions, a 2x2 pool and two dense layers: about 40k parameters."""

        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.Sequential(
                nn.Conv2d(1, 16, 3, padding=1),
                nn.ReLU(),
                nn.Conv2d(16, 32, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Flatten(),
                nn.Linear(32 * 4 * 4, 64),
                nn.ReLU(),
                nn.Linear(64, 10),
            )

        def forward(self, x: Any) -> Any:
            return self.layers(x / 16.0)

    return DigitsCNN()


def train_cnn(split: Split, seed: int) -> tuple[Any, float]:
    """Adam, mini-batches of 64, a fixed number of epochs, seeded; returns the model and test accuracy."""
    torch = require("torch")
    torch.manual_seed(seed)
    model = build_cnn()
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    x, y = torch.from_numpy(split.x_train), torch.from_numpy(split.y_train)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(EPOCHS):
        for index in torch.randperm(len(x), generator=generator).split(64):
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(model(x[index]), y[index]).backward()
            optimiser.step()
    model.eval()
    with torch.no_grad():
        predicted = model(torch.from_numpy(split.x_test)).argmax(dim=1).numpy()
    return model, float(np.mean(predicted == split.y_test))


def build_default_models(out_dir: Path, seed: int = 0) -> list[tuple[ExportReport, float]]:
    """Train, export and write both models and the held-out set; returns (report, accuracy) per model."""
    started = time.perf_counter()
    split = load_split(seed)
    sk_model, sk_accuracy = train_sklearn(split)
    cnn, cnn_accuracy = train_cnn(split, seed)
    flat_test = split.x_test.reshape(len(split.x_test), -1)
    sk_report = export_sklearn(
        sk_model,
        out_dir / "digits-sklearn.onnx",
        sample=flat_test,
        class_labels=LABELS,
        model_name="digits-sklearn",
        description="StandardScaler + LogisticRegression on scikit-learn's digits (8x8 images flattened to 64 "
        "pixels, values 0-16)",
        test_accuracy=sk_accuracy,
    )
    cnn_report = export_torch(
        cnn,
        out_dir / "digits-cnn.onnx",
        example_input=split.x_test,
        class_labels=LABELS,
        model_name="digits-cnn",
        description="Small CNN on scikit-learn's digits (8x8 grayscale images, pixel values 0-16)",
        test_accuracy=cnn_accuracy,
    )
    held_out = io.BytesIO()
    np.savez(held_out, X=split.x_test, y=split.y_test)
    write_atomically(held_out.getvalue(), out_dir / "digits-test.npz")
    print(f"trained and exported in {time.perf_counter() - started:.1f} s")
    return [(sk_report, sk_accuracy), (cnn_report, cnn_accuracy)]
