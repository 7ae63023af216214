"""Fair timings of two model variants, for the figures that --quantize and --optimize report.

Both variants are timed with the handler's session options on a one-vCPU function (one intra-op
thread, sequential execution, every online optimisation), and their runs alternate: A, B, A, B, ...
so that a noisy neighbour or a CPU frequency change costs both the same. The median of many runs is
the figure, because one slow outlier (a page fault, a context switch) moves a mean but not a median.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from handler.contract import PROVIDERS, session_options
from model_export.deps import require
from model_export.parity import INPUT_NAME

SESSION_RUNS = 21  # fresh sessions per variant: each takes milliseconds
INFERENCE_RUNS = 300  # session.run calls per variant and batch: each takes microseconds to milliseconds
WARMUP_RUNS = 20  # untimed runs first: the first calls allocate buffers and fault in pages


def serving_session(model: bytes) -> Any:
    """An onnxruntime CPU session opened as the handler opens it with ORT_INTRA_OP_THREADS=1."""
    ort = require("onnxruntime")
    return ort.InferenceSession(model, session_options(1), providers=list(PROVIDERS))


def _median_ms(samples: Sequence[int]) -> float:
    return statistics.median(samples) / 1e6


def session_ms(models: Sequence[bytes], runs: int = SESSION_RUNS) -> list[float]:
    """Median milliseconds to create a fresh session on each model, creations interleaved across models."""
    samples: list[list[int]] = [[] for _ in models]
    for _ in range(runs):
        for model, taken in zip(models, samples, strict=True):
            started = time.perf_counter_ns()
            serving_session(model)
            taken.append(time.perf_counter_ns() - started)
    return [_median_ms(taken) for taken in samples]


def inference_ms(sessions: Sequence[Any], batch: np.ndarray, runs: int = INFERENCE_RUNS) -> list[float]:
    """Median milliseconds of ``session.run`` on the same batch for each warm session, runs interleaved."""
    feeds = {INPUT_NAME: batch}
    for session in sessions:
        for _ in range(WARMUP_RUNS):
            session.run(None, feeds)
    samples: list[list[int]] = [[] for _ in sessions]
    for _ in range(runs):
        for session, taken in zip(sessions, samples, strict=True):
            started = time.perf_counter_ns()
            session.run(None, feeds)
            taken.append(time.perf_counter_ns() - started)
    return [_median_ms(taken) for taken in samples]
