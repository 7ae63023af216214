"""Warm latency: one instance, event dict in -> response dict out, against raw session.run in the same
process on the same array; the per-request overhead is the difference of the medians.

Every (contestant, scenario, threads) runs in its own fresh process, so one contestant's imports
(torch) never slow another's loop.
"""

from __future__ import annotations

import statistics
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


def interleaved(cases: list[tuple[str, str]], budget: int, processes: int) -> list[Warm]:
    """Each (contestant, scenario) in ``processes`` fresh processes, taken in turns (A, B, A, B: a slow spell of
    the machine falls on every contestant alike); each figure is the median over the processes."""
    runs: dict[tuple[str, str], list[Warm]] = {case: [] for case in cases}
    for _ in range(processes):
        for contestant, scenario in cases:
            runs[contestant, scenario].append(measure(contestant, scenario, repeats_for(scenario, budget)))
    return [_median_of(rows) for rows in runs.values()]


def _median_of(rows: list[Warm]) -> Warm:
    first = rows[0]
    figures = [
        statistics.median(getattr(row, name) for row in rows)
        for name in ("handler_p50_us", "handler_p99_us", "raw_p50_us", "raw_p99_us")
    ]
    return Warm(first.contestant, first.scenario, first.threads, *figures)


def repeats_for(scenario: str, budget: int) -> int:
    """Fewer repeats for big batches, so each measurement takes about the same wall time."""
    size = int(scenario.rsplit("-", 1)[1])
    return max(20, budget // max(1, size // 16))
