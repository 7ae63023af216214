"""The big-model contestant: a ResNet-18-sized CNN (11.7 M parameters, 46.7 MB of float32 weights), exported
through this project's own ``export_torch`` once and cached in bench/.cache.

The architecture is ResNet-18's (He et al., 2015: BasicBlock, stages [2, 2, 2, 2], 1,000 classes, input
[batch, 3, 224, 224]) written out here, since torchvision is not a dependency and no weights may be
downloaded; the weights are random with a fixed seed. What is measured (loading, optimising, running a
46.7 MB graph) depends on the shapes, not on what the weights learned.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from bench.measure import REPO

CACHE = REPO / "bench" / ".cache"
MODEL = CACHE / "resnet18" / "resnet18.onnx"
INPUT_SHAPE = (1, 3, 224, 224)


class BasicBlock(nn.Module):
    def __init__(self, inputs: int, outputs: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(outputs)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(outputs)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or inputs != outputs:
            self.shortcut = nn.Sequential(nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResNet18(nn.Module):
    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)
        )
        stages: list[nn.Module] = []
        width = 64
        for out, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            stages += [BasicBlock(width, out, stride), BasicBlock(out, out, 1)]
            width = out
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(512, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.stages(self.stem(x))
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(y, 1), 1))


def resnet_model(seed: int = 0) -> Path:
    """bench/.cache/resnet18/resnet18.onnx, exported once (parity-checked like any user's model)."""
    if not MODEL.is_file():
        from model_export import export_torch  # noqa: PLC0415

        torch.manual_seed(seed)
        module = ResNet18().eval()
        sample = np.random.default_rng(seed).standard_normal((8, *INPUT_SHAPE[1:])).astype(np.float32)
        MODEL.parent.mkdir(parents=True, exist_ok=True)
        export_torch(module, MODEL, sample=sample, name="resnet18", description="ResNet-18-sized CNN, random weights")
    return MODEL
