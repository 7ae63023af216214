"""The nn.Module that gives a PyTorch classifier the contract's two outputs: label and probabilities.

Imported only after PyTorch is known to be installed (see ``model_export.deps``). It is
scriptable, so it can also wrap a TorchScript module. It adds no layers whose mode matters; the
exporter puts it and the wrapped module in eval mode.
"""

from __future__ import annotations

import torch
from torch import nn


class ClassifierHead(nn.Module):
    """Returns (argmax int64 [batch], probabilities float32 [batch, n_classes]) from a classifier module.

    ``softmax`` says whether the wrapped module returns logits (softmax applied here) or already
    returns probabilities (passed through unchanged).
    """

    def __init__(self, inner: nn.Module, softmax: bool) -> None:
        super().__init__()
        self.inner = inner
        self.softmax = softmax

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The index of the most probable class and the class probabilities."""
        scores = self.inner(x)
        probabilities = torch.softmax(scores, dim=1) if self.softmax else scores
        return torch.argmax(scores, dim=1), probabilities


class NamedInputsClassifierHead(nn.Module):
    """The same for a module taking several inputs (traced, not scripted: TorchScript has no *args)."""

    def __init__(self, inner: nn.Module, softmax: bool) -> None:
        super().__init__()
        self.inner = inner
        self.softmax = softmax

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The index of the most probable class and the class probabilities."""
        scores = self.inner(*inputs)
        probabilities = torch.softmax(scores, dim=1) if self.softmax else scores
        return torch.argmax(scores, dim=1), probabilities


class RawPixels(nn.Module):
    """Takes raw pixels, uint8 [batch, height, width, channels] as the server decodes them, and gives the wrapped
    module what it was trained on: float [batch, channels, height, width], times ``scale``, then (x - mean) / std
    per channel. Folded into the graph, it leaves the server nothing to compute but the decode and the resize."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, inner: nn.Module, scale: float, mean: list[float], std: list[float]) -> None:
        super().__init__()
        self.inner = inner
        self.scale = scale
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).reshape(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).reshape(1, -1, 1, 1))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """The wrapped module's output for raw pixels."""
        x = pixels.permute(0, 3, 1, 2).to(torch.float32) * self.scale
        scores: torch.Tensor = self.inner((x - self.mean) / self.std)
        return scores


class BatchFirstState(nn.Module):
    """A step module (token [batch], state [layers, batch, hidden] as PyTorch's RNNs keep it) -> (logits, state),
    exported with the state batch first, [batch, layers, hidden], so every input and output has its batch axis
    first, as the server's checks, warm-up and batch limits expect."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, token: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The next-token logits and the next state, batch first."""
        logits, new_state = self.inner(token, state.transpose(0, 1).contiguous())
        return logits, new_state.transpose(0, 1)
