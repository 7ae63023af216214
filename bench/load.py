"""`make load`: Locust against the API, every answer checked; prints a table and writes docs/load.md.

    python -m bench.load [--users 50] [--spawn-rate 10] [--duration 60] [--host URL] [--out docs]

Without --host it starts the local gateway (API Gateway plus one Lambda instance) on a free loopback port
and stops it at the end. Locust runs as a subprocess and is never imported here: it patches the standard
library with gevent at import. Exits non-zero when any request failed or none was made, so a run that
looked fast but answered wrong labels cannot pass.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from onnx_lambda.gateway_process import spawn_gateway

REPO = Path(__file__).resolve().parent.parent
LOCUSTFILE = REPO / "bench" / "locustfile.py"
AGGREGATED = "Aggregated"
SETUP_FAILED = 3  # the locustfile's exit code when the target could not be discovered
THINK_SECONDS = (0.01, 0.05)  # each Locust user's wait between requests (bench/locustfile.py uses it)
SERVER_TROUBLE = ('"level":"ERROR"', '"level":"CRITICAL"', '"level":"WARNING"', "Exception occurred")


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


def _number(text: str) -> float:
    """A CSV cell as a number; Locust writes N/A for the percentiles of an endpoint without requests."""
    try:
        return float(text)
    except ValueError:
        return float("nan")


def read_stats(path: Path) -> list[Row]:
    """Locust's <prefix>_stats.csv, one Row per endpoint then the Aggregated row."""
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return [
            Row(
                name=f"{line['Type']} {line['Name']}".strip(),
                requests=int(line["Request Count"]),
                failures=int(line["Failure Count"]),
                rps=_number(line["Requests/s"]),
                p50=_number(line["50%"]),
                p95=_number(line["95%"]),
                p99=_number(line["99%"]),
            )
            for line in csv.DictReader(handle)
        ]


def read_problems(path: Path, *fields: str) -> list[str]:
    """Rows of Locust's failures or exceptions CSV, as "count x what" lines, most frequent first."""
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        lines = sorted(csv.DictReader(handle), key=lambda line: -int(line["Occurrences"]))
    # Locust keeps the repr of what failed a checked response: CatchResponseError('the message').
    unwrap = re.compile(r"^CatchResponseError\((['\"])(.*)\1\)$", re.S)
    return [f"{line['Occurrences']} x " + " ".join(unwrap.sub(r"\2", line[key]) for key in fields) for line in lines]


def server_trouble(output: list[str]) -> list[str]:
    """The server's warnings, errors and tracebacks (each traceback whole, down to its exception line)."""
    found: list[str] = []
    lines = [line.rstrip() for line in list(output)]
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("Traceback"):
            end = index + 1
            while end < len(lines) and (lines[end].startswith(" ") or not lines[end].strip()):
                end += 1
            found.append("\n".join(lines[index : end + 1]))
            index = end + 1
            continue
        if any(mark in line for mark in SERVER_TROUBLE):
            found.append(line)
        index += 1
    return found


def locust_command(args: argparse.Namespace, host: str, prefix: Path) -> list[str]:
    """The headless Locust command line for this run."""
    return [
        *(sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"),
        *("-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{args.duration}s"),
        *("--host", host, "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"),
        # At the end each user finishes the request it is in, rather than dropping the connection mid-answer.
        *("--stop-timeout", "10"),
    ]


def run_locust(args: argparse.Namespace, host: str, server_output: list[str] | None = None) -> Run:
    """One Locust run against ``host``; its CSVs go to a temporary directory and are read back."""
    with tempfile.TemporaryDirectory(prefix="onnx-lambda-load-") as scratch:
        prefix = Path(scratch) / "load"
        result = subprocess.run(
            locust_command(args, host, prefix),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=args.duration + 120,
            check=False,
        )
        trouble = server_trouble(server_output or [])
        return Run(
            rows=read_stats(Path(f"{prefix}_stats.csv")),
            failures=read_problems(Path(f"{prefix}_failures.csv"), "Method", "Name", "Error"),
            exceptions=read_problems(Path(f"{prefix}_exceptions.csv"), "Message", "Traceback"),
            returncode=result.returncode,
            locust_log=result.stderr + result.stdout,
            server_trouble=trouble,
        )


@contextmanager
def target(host: str | None) -> Iterator[tuple[str, list[str] | None]]:
    """The given URL, or a local gateway started for the run (with what it prints, to look for errors)."""
    if host:
        yield host.rstrip("/"), None
        return
    with spawn_gateway() as gateway:
        yield gateway.url, gateway.output


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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; the defaults are `make load`'s."""
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="concurrent Locust users (default 50)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second (default 10)")
    parser.add_argument("--duration", type=int, default=60, help="seconds, ramp included (default 60)")
    parser.add_argument("--host", help="base URL with any stage path; default: start the local gateway")
    parser.add_argument("--out", type=Path, help="directory to write load.md to (e.g. docs)")
    args = parser.parse_args(argv)
    if args.users < 1 or args.spawn_rate <= 0 or args.duration < 1:
        parser.error("--users, --spawn-rate and --duration must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run, print, write the report; 0 only when requests were made and every one was answered right."""
    args = parse_args(argv)
    command = shlex.join(["python", "-m", "bench.load", *(sys.argv[1:] if argv is None else argv)])
    with target(args.host) as (url, server_output):
        print(f"load: {args.users} users for {args.duration} s against {url} ...", flush=True)
        run = run_locust(args, url, server_output)
    print(table(run.rows))
    for line in run.warnings:
        print(f"locust: {line}")
    for line in problems(run):
        print(f"PROBLEM: {line}", file=sys.stderr)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / "load.md"
        path.write_text(report(args, run, command, local=args.host is None))
        print(f"wrote {path}")
    return 0 if run.ok else 1


if __name__ == "__main__":
    sys.exit(main())
