"""The default PyTorch model: a small CNN for 8x8 digits, trained deterministically on the CPU.

Imported only after PyTorch is known to be installed (see ``model_export.deps``). The module scales
pixels by 1/16 itself, so the exported graph takes the raw 0-16 pixel values a client sends.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

EPOCHS = 15
BATCH_SIZE = 32
LEARNING_RATE = 2e-3


class DigitsCNN(nn.Module):
    """Conv(1->16) ReLU Conv(16->32) ReLU MaxPool Flatten Linear(512->64) ReLU Linear(64->10): logits."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 4 * 4, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits [batch, 10] for raw images [batch, 1, 8, 8] with pixels 0-16."""
        logits: torch.Tensor = self.layers(x / 16.0)
        return logits


def train_cnn(images: np.ndarray, labels: np.ndarray, seed: int, epochs: int = EPOCHS) -> DigitsCNN:
    """Adam on cross-entropy, mini-batches shuffled by a seeded generator; the same seed gives the same weights."""
    torch.manual_seed(seed)
    shuffle = torch.Generator().manual_seed(seed)
    model = DigitsCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    x, y = torch.from_numpy(images), torch.from_numpy(labels)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=shuffle)
        for start in range(0, len(x), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
            torch.autograd.backward(loss)
            optimizer.step()
    return model.eval()


def accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    """Share of ``images`` whose argmax class equals the label."""
    with torch.no_grad():
        predicted = model(torch.from_numpy(images)).argmax(dim=1).numpy()
    return float(np.mean(predicted == labels))
