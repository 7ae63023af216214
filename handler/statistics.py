"""Per-model inference statistics in the shape of Triton's statistics extension (``GET /v2/models/.../stats``).

They count what this instance has run since its INIT: a Lambda function is many instances, each with its own
figures (CloudWatch's InferenceLatency and BatchSize metrics are the function-wide view). Every run through the
data plane is one execution: ``success`` (or ``fail``) with its whole duration, ``compute_input`` the checks on
the feeds, ``compute_infer`` onnxruntime's ``session.run``, ``compute_output`` the outputs made arrays; ``queue``
is counted with no time, since an instance takes one request at a time. ``inference_count`` counts instances (a
batch of 64 is 64), ``execution_count`` runs; ``batch_stats`` split the compute figures by batch size.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

PHASES = ("compute_input", "compute_infer", "compute_output")


@dataclass
class Duration:
    """A count and a total time, in nanoseconds (Triton's $duration_stat)."""

    count: int = 0
    ns: int = 0

    def add(self, ns: int) -> None:
        self.count += 1
        self.ns += ns

    def as_json(self) -> dict[str, int]:
        return {"count": self.count, "ns": self.ns}


@dataclass
class ModelStatistics:
    """One model version's figures on this instance."""

    name: str
    version: str
    last_inference_ms: int = 0
    inference_count: int = 0
    execution_count: int = 0
    totals: dict[str, Duration] = field(
        default_factory=lambda: {name: Duration() for name in ("success", "fail", "queue", *PHASES)}
    )
    batches: dict[int, dict[str, Duration]] = field(default_factory=dict)

    def succeeded(self, batch: int, phases_ns: tuple[int, int, int]) -> None:
        """A run of ``batch`` instances that answered, with its input, infer and output times."""
        self.last_inference_ms = int(time.time() * 1000)
        self.inference_count += batch
        self.execution_count += 1
        self.totals["success"].add(sum(phases_ns))
        self.totals["queue"].add(0)
        per_batch = self.batches.setdefault(batch, {name: Duration() for name in PHASES})
        for name, ns in zip(PHASES, phases_ns, strict=True):
            self.totals[name].add(ns)
            per_batch[name].add(ns)

    def failed(self, ns: int) -> None:
        """A run the model refused or could not complete."""
        self.last_inference_ms = int(time.time() * 1000)
        self.totals["fail"].add(ns)

    def as_json(self) -> dict[str, Any]:
        """Triton's $model_stat."""
        return {
            "name": self.name,
            "version": self.version,
            "last_inference": self.last_inference_ms,
            "inference_count": self.inference_count,
            "execution_count": self.execution_count,
            "inference_stats": {name: duration.as_json() for name, duration in self.totals.items()},
            "batch_stats": [
                {"batch_size": size, **{name: duration.as_json() for name, duration in phases.items()}}
                for size, phases in sorted(self.batches.items())
            ],
        }
