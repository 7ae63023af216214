"""What one `make load` run left, and docs/load.md written from it: the table, the problems, and whether the one
instance was saturated (its latencies then queueing, by Little's law)."""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from dataclasses import dataclass
from importlib.metadata import version

AGGREGATED = "Aggregated"
THINK_SECONDS = (0.01, 0.05)  # each Locust user's wait between requests (bench/locustfile.py uses it)


@dataclass(frozen=True)
class Row:
    """One line of Locust's stats CSV: an endpoint (method and name) or the aggregate."""

    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float


@dataclass(frozen=True)
class Run:
    """What one Locust run left: its stats, failures and errors, and what Locust and the server printed."""

    rows: list[Row]
    failures: list[str]
    exceptions: list[str]
    returncode: int
    locust_log: str
    server_trouble: list[str]

    @property
    def total(self) -> Row | None:
        """The Aggregated row, or None when Locust wrote no stats."""
        return next((row for row in self.rows if row.name == AGGREGATED), None)

    @property
    def warnings(self) -> list[str]:
        """Locust's own warnings, e.g. that its CPU was saturated (then the figures are the client's limit)."""
        return [line.strip() for line in self.locust_log.splitlines() if "/WARNING/" in line]

    @property
    def ok(self) -> bool:
        """Requests were made, none failed, and Locust neither crashed nor saw errors in the user code."""
        total = self.total
        ok_code = self.returncode in (0, 1)  # 1 is Locust's code for "some requests failed", counted below
        return ok_code and total is not None and total.requests > 0 and total.failures == 0 and not self.exceptions


def table(rows: list[Row]) -> str:
    """The stats as a markdown table (which also reads well in a terminal)."""
    lines = [
        "| Endpoint | Requests | Failures | RPS | p50 ms | p95 ms | p99 ms |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for row in rows:
        name = f"**{row.name}**" if row.name == AGGREGATED else f"`{row.name}`"
        cells = [name, str(row.requests), str(row.failures), f"{row.rps:.1f}"]
        cells += ["-" if math.isnan(value) else f"{value:.0f}" for value in (row.p50, row.p95, row.p99)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def problems(run: Run) -> list[str]:
    """Everything that went wrong, worded for the terminal and the report."""
    found = [f"request failure: {line}" for line in run.failures[:20]]
    if len(run.failures) > 20:
        found.append(f"... and {len(run.failures) - 20} more kinds of request failure")
    found += [f"error in the load test's own code: {line}" for line in run.exceptions]
    found += [f"server log: {line}" for line in run.server_trouble[:20]]
    if run.returncode not in (0, 1):
        found.append(f"locust exited with {run.returncode}:\n{run.locust_log[-3000:]}")
    elif run.total is None or run.total.requests == 0:
        found.append(f"no requests were made:\n{run.locust_log[-3000:]}")
    return found


def report(args: argparse.Namespace, run: Run, command: str, local: bool) -> str:
    """docs/load.md: the figures, how they were made, and on what."""
    where = "the local gateway (`onnx_lambda.local_gateway`) on loopback" if local else f"`{args.host}`"
    cores = os.cpu_count() or 0
    lines = [
        "# Load test",
        "",
        f"`{command}`: {args.users} Locust users (FastHttpUser, {THINK_SECONDS[0] * 1000:.0f}-"
        f"{THINK_SECONDS[1] * 1000:.0f} ms think time, spawn rate "
        f"{args.spawn_rate}/s) for {args.duration} s against {where}; Locust {version('locust')}, "
        f"{time.strftime('%Y-%m-%d')}.",
        "",
        table(run.rows),
        "",
        "Every answer is checked, not only its status: a request fails unless it is a 200 whose labels are the "
        "held-out labels of the digits sent (only digits the model classifies right are sent), whose "
        "probabilities sum to 1 with the label as their argmax, and whose binary outputs parse to the sizes "
        "stated. Latencies are Locust's (rounded) percentiles in milliseconds; RPS is over the whole run, ramp "
        "included.",
        "",
        f"Machine: {cores} cores, {platform.machine()}, {platform.system()}, Python {platform.python_version()}. "
        + (
            "The local gateway plays API Gateway plus ONE Lambda instance, which serves one request at a time "
            "as Lambda does (connections are accepted concurrently and queue for it), so the RPS is one "
            f"instance's, and Locust shares the same {cores} cores. A deployment scales out by adding "
            "instances: throughput grows with concurrency, per-instance figures stay about these."
            if local
            else "The figures include the network between this machine and the deployment."
        ),
    ]
    if local and (queueing := saturation(args.users, run.total)):
        lines += ["", queueing]
    if run.warnings:
        lines += ["", "Locust warned:", "", *[f"- `{line}`" for line in run.warnings]]
    found = problems(run)
    if found:
        lines += ["", "## Problems", "", *[f"- {line}" for line in found]]
    return "\n".join(lines) + "\n"


def saturation(users: int, total: Row | None) -> str:
    """Whether the one instance was the bottleneck, by Little's law: then the latencies are mostly queueing.

    Each user cycles through think time and one request, so users / RPS is the mean cycle; what it holds
    beyond the mean think time is the mean time a request took. When the instance served requests back to
    back, 1 / RPS is the time it spent on each (gateway, handler and Locust sharing the cores), and the
    rest of a request's time was spent waiting for it.
    """
    if total is None or total.requests == 0 or total.rps <= 0:
        return ""
    think_ms = 1000 * sum(THINK_SECONDS) / 2
    offered = users / (think_ms / 1000)
    if total.rps < 0.8 * offered:
        request_ms = 1000 * users / total.rps - think_ms
        return (
            f"The one instance was saturated: {users} users at a mean {think_ms:.0f} ms think time offer up to "
            f"{offered:,.0f} requests/s, it served {total.rps:,.0f}/s, one every {1000 / total.rps:.2f} ms "
            f"(gateway, handler and Locust on the same cores). By Little's law a request took "
            f"{request_ms:.0f} ms on average, nearly all of it queueing for the instance; what one request "
            "costs without a queue is docs/benchmarks.md's gateway row. Fewer users (`--users 5`) show "
            "latency unqueued; more instances, not a faster one, serve more users."
        )
    return (
        f"The instance kept up: {users} users offered at most {offered:,.0f} requests/s and {total.rps:,.0f}/s "
        "were served, so the latencies are per-request time, not queueing."
    )
