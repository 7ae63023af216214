"""A character-level name generator, trained in seconds on names the code makes from syllables.

``NameGRU`` is a step module, as people write one for sampling: (token int64 [batch], hidden [1, batch, 64]) ->
(next-token logits [batch, vocabulary], hidden). ``sample`` is the user's own sampling loop in PyTorch, drawing
from the same uniform numbers handler.generation draws (numpy's PCG64 from the seed, inverse CDF of
softmax(logits / temperature)), so a served name can be checked against it letter for letter.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

SYLLABLES = ["ka", "li", "son", "ma", "ri", "an", "el", "la", "to", "ny", "ro", "se", "be", "th", "jo", "na", "vi"]
START, END = "<s>", "</s>"
VOCABULARY = [START, END, *(chr(code) for code in range(ord("A"), ord("Z") + 1)), *"abcdefghijklmnopqrstuvwxyz"]
HIDDEN = 64


def names(count: int = 600, seed: int = 0) -> list[str]:
    """Made-up names of two to three syllables, capitalised: "Kalison", "Marian", "Tonyel"."""
    rng = np.random.default_rng(seed)
    made = {"".join(rng.choice(SYLLABLES, int(rng.integers(2, 4)))).capitalize() for _ in range(count * 2)}
    return sorted(made)[:count]


class NameGRU(nn.Module):
    """Embedding, one GRU layer, a linear head: one step per call."""

    def __init__(self, vocabulary: int = len(VOCABULARY), hidden: int = HIDDEN) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocabulary, 16)
        self.gru = nn.GRU(16, hidden)
        self.head = nn.Linear(hidden, vocabulary)

    def forward(self, token: torch.Tensor, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        output, hidden = self.gru(self.embed(token).unsqueeze(0), hidden)
        return self.head(output[0]), hidden

    def sequence_logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits for whole sequences [time, batch] (training only)."""
        output, _ = self.gru(self.embed(tokens))
        return self.head(output)  # type: ignore[no-any-return]


def encode(name: str) -> list[int]:
    return [VOCABULARY.index(START), *(VOCABULARY.index(letter) for letter in name), VOCABULARY.index(END)]


def trained(steps: int = 300, seed: int = 0) -> NameGRU:
    """The generator trained on ``names()`` (a few seconds on a CPU)."""
    torch.manual_seed(seed)
    corpus = [encode(name) for name in names()]
    width = max(map(len, corpus))
    padded = torch.tensor([tokens + [VOCABULARY.index(END)] * (width - len(tokens)) for tokens in corpus]).T
    mask = torch.tensor([[1.0] * (len(tokens) - 1) + [0.0] * (width - len(tokens)) for tokens in corpus]).T
    net = NameGRU()
    optimiser = torch.optim.Adam(net.parameters(), lr=0.01)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        rows = torch.from_numpy(rng.choice(len(corpus), 64))
        batch, weights = padded[:, rows], mask[:, rows]
        logits = net.sequence_logits(batch[:-1])
        loss = nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), batch[1:].reshape(-1), reduction="none"
        )
        loss = (loss * weights.reshape(-1)).sum() / weights.sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return net.eval()


def sample(
    net: nn.Module,
    start: str,
    temperature: float,
    max_length: int,
    seed: int | None,
    *,
    vocabulary: list[str] = VOCABULARY,
    hidden: tuple[int, int] = (1, HIDDEN),
) -> str:
    """The user's own sampling loop in PyTorch, one request: prime with <s> and the start, then draw."""
    rng = np.random.default_rng(seed)
    state = torch.zeros(hidden[0], 1, hidden[1])
    text = start
    with torch.no_grad():
        for token in [vocabulary.index(START), *(vocabulary.index(letter) for letter in start)]:
            logits, state = net(torch.tensor([token]), state)
        while len(text) < max_length:
            scores = logits[0].double()
            if temperature == 0:
                drawn = int(scores.argmax())
            else:
                weights = torch.softmax(scores / temperature, dim=0).numpy().cumsum()
                drawn = int(min(np.searchsorted(weights, rng.random() * weights[-1], side="right"), len(weights) - 1))
            if vocabulary[drawn] == END:
                break
            text += vocabulary[drawn]
            logits, state = net(torch.tensor([drawn]), state)
    return text
