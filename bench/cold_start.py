"""Cold start: fresh process -> first response, for the three contestants, interleaved.

Each round starts one process per contestant in a shuffled order, so drift on a noisy machine hits
all three alike; the figure is the median over rounds of the wall time from spawn to the line the
child prints after its first response (Python's own start-up included for all three), with the peak
RSS at that moment. ``-X importtime`` of the project's entry point says where what remains goes.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from bench.measure import median, run_child

CONTESTANTS = ("floor", "project", "peer")


@dataclass(frozen=True)
class ColdStart:
    contestant: str
    median_ms: float
    samples_ms: list[float]
    rss_mib: float


def measure(rounds: int, seed: int = 0) -> dict[str, ColdStart]:
    order = list(CONTESTANTS)
    shuffle = random.Random(seed)
    walls: dict[str, list[float]] = {name: [] for name in CONTESTANTS}
    rss: dict[str, list[float]] = {name: [] for name in CONTESTANTS}
    for _ in range(rounds):
        shuffle.shuffle(order)
        for name in order:
            answer = run_child("first", name)
            if not answer["ok"]:
                raise RuntimeError(f"{name}: the first response was not a 200")
            walls[name].append(answer["wall_s"] * 1000)
            rss[name].append(answer["rss_mib"])
    return {name: ColdStart(name, median(walls[name]), walls[name], median(rss[name])) for name in CONTESTANTS}


IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def import_breakdown(top: int = 12) -> list[tuple[str, float]]:
    """(package, ms) of the heaviest top-level packages the entry point's import pulls in."""
    stderr = run_child("first", "project", python_flags=("-X", "importtime"))["stderr"]
    totals: dict[str, float] = {}
    for line in stderr.splitlines():
        found = IMPORT_LINE.match(line)
        if found:
            package = found[4].split(".")[0]
            totals[package] = totals.get(package, 0.0) + int(found[1]) / 1000  # self times add up exactly
    return sorted(totals.items(), key=lambda item: -item[1])[:top]
