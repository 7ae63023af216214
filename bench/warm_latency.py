"""Warm latency: one instance, event dict in -> response dict out, against raw session.run in the same
process on the same array; the per-request overhead is the difference of the medians.

Every (contestant, scenario, threads) runs in its own fresh process, so one contestant's imports
(torch) never slow another's loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.measure import percentile, run_child


@dataclass(frozen=True)
class Warm:
    contestant: str
    scenario: str
    threads: int
    handler_p50_us: float
    handler_p99_us: float
    raw_p50_us: float
    raw_p99_us: float

    @property
    def overhead_us(self) -> float:
        return self.handler_p50_us - self.raw_p50_us

    @property
    def ratio(self) -> float:
        return self.handler_p50_us / self.raw_p50_us


def measure(contestant: str, scenario: str, repeats: int, threads: int = 1) -> Warm:
    env = {"ORT_INTRA_OP_THREADS": str(threads), "PEER_THREADS": str(threads)}
    samples = run_child("warm", contestant, scenario, str(repeats), env=env)
    handler, raw = samples["handler_us"], samples["raw_us"]
    return Warm(
        contestant,
        scenario,
        threads,
        percentile(handler, 0.5),
        percentile(handler, 0.99),
        percentile(raw, 0.5),
        percentile(raw, 0.99),
    )


def repeats_for(scenario: str, budget: int) -> int:
    """Fewer repeats for big batches, so each measurement takes about the same wall time."""
    size = int(scenario.rsplit("-", 1)[1])
    return max(20, budget // max(1, size // 16))
