"""A CIFAR-10-style image classifier, trained in seconds on coloured shapes the code draws itself.

Ten classes (five shapes in two colours) on noisy backgrounds, at random places and sizes; the images come as the
files people post (PNG and JPEG, of other sizes than the model's 32x32). ``preprocess`` is the user's own
preprocessing, written as torchvision's Resize((32, 32)), ToTensor() and Normalize(mean, std) compute it.
"""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import nn

SHAPES = ("circle", "square", "triangle", "cross", "bar")
COLOURS = {"red": (220, 40, 40), "blue": (40, 60, 220)}
CLASSES = [f"{colour} {shape}" for colour in COLOURS for shape in SHAPES]
MEAN, STD = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)
SIZE = 32


def draw(label: int, rng: np.random.Generator, size: tuple[int, int] = (SIZE, SIZE)) -> Image.Image:
    """One image of class ``label``: its shape in its colour on a grey, noisy background."""
    width, height = size
    background = rng.integers(90, 170, (height, width, 3)).astype(np.uint8)
    image = Image.fromarray(background)
    colour = list(COLOURS.values())[label // len(SHAPES)]
    shape = SHAPES[label % len(SHAPES)]
    r = rng.uniform(0.25, 0.4) * min(width, height)
    cx, cy = rng.uniform(r, width - r), rng.uniform(r, height - r)
    pen = ImageDraw.Draw(image)
    if shape == "circle":
        pen.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    elif shape == "square":
        pen.rectangle((cx - r, cy - r, cx + r, cy + r), fill=colour)
    elif shape == "triangle":
        pen.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
    elif shape == "cross":
        pen.rectangle((cx - r, cy - r / 4, cx + r, cy + r / 4), fill=colour)
        pen.rectangle((cx - r / 4, cy - r, cx + r / 4, cy + r), fill=colour)
    else:
        pen.rectangle((cx - r, cy - r / 5, cx + r, cy + r / 5), fill=colour)
    return image


def dataset(count: int, seed: int = 0) -> tuple[list[Image.Image], list[int]]:
    rng = np.random.default_rng(seed)
    labels = [int(label) for label in rng.integers(0, len(CLASSES), count)]
    return [draw(label, rng) for label in labels], labels


def preprocess(image: Image.Image) -> torch.Tensor:
    """The user's preprocessing: Resize((32, 32)), ToTensor(), Normalize(MEAN, STD), as torchvision computes them."""
    resized = image.convert("RGB").resize((SIZE, SIZE), Image.Resampling.BILINEAR)
    x = torch.from_numpy(np.asarray(resized, dtype=np.float32).copy()).permute(2, 0, 1) / 255
    return (x - torch.tensor(MEAN).reshape(3, 1, 1)) / torch.tensor(STD).reshape(3, 1, 1)


class ShapesNet(nn.Module):
    """A small CNN: two conv blocks and a linear head, [batch, 3, 32, 32] -> logits [batch, 10]."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )  # fmt: skip
        self.head = nn.Linear(32 * 8 * 8, len(CLASSES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))  # type: ignore[no-any-return]


def trained(count: int = 800, epochs: int = 6, seed: int = 0) -> ShapesNet:
    """The network trained on ``count`` drawn images (a few seconds on a CPU)."""
    torch.manual_seed(seed)
    images, labels = dataset(count, seed)
    x = torch.stack([preprocess(image) for image in images])
    y = torch.tensor(labels)
    net = ShapesNet()
    optimiser = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(epochs):
        for start in range(0, count, 64):
            optimiser.zero_grad()
            loss = nn.functional.cross_entropy(net(x[start : start + 64]), y[start : start + 64])
            loss.backward()
            optimiser.step()
    return net.eval()


def encoded(image: Image.Image, kind: str = "PNG") -> bytes:
    """The image as a file's bytes (PNG, JPEG, WEBP)."""
    buffer = io.BytesIO()
    image.save(buffer, kind, **({"quality": 90} if kind != "PNG" else {}))
    return buffer.getvalue()
