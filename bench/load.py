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
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.load_report import Row, Run, problems, report, table
from onnx_lambda.gateway_process import spawn_gateway

REPO = Path(__file__).resolve().parent.parent
LOCUSTFILE = REPO / "bench" / "locustfile.py"
SETUP_FAILED = 3  # the locustfile's exit code when the target could not be discovered
SERVER_TROUBLE = ('"level":"ERROR"', '"level":"CRITICAL"', '"level":"WARNING"', "Exception occurred")


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
