"""`make fuzz`: schemathesis against the OpenAPI document the local gateway serves, through the real entry point.

    python -m bench.fuzz [--max-examples 1000] [--seed 20261123] [--stage prod] [--out docs]

Every operation, every phase (examples, coverage, fuzzing, stateful) and every check but one. The gateway
turns each request into an API Gateway event for ``handler.entrypoint.lambda_handler``, so what is fuzzed
is what Lambda runs. ``make test`` runs the same with a few examples per operation (tests/reliability).

The one check left out, ``positive_data_acceptance``, expects every body the schema allows to be served
with 2xx; an inference request can be well-formed and still not fit the model (the data must hold
product(shape) values, the shape must fit the model's input), which JSON Schema cannot state, so it is
refused with 400 and a message saying so. ``negative_data_rejection`` (anything the schema forbids gets a
4xx) stays on, as do ``not_a_server_error`` (no 5xx) and the response checks (status codes, content types,
headers and bodies as declared).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onnx_lambda.gateway_process import spawn_gateway

EXCLUDED_CHECKS = ("positive_data_acceptance",)
DEFAULT_SEED = 20261123


@dataclass(frozen=True)
class FuzzRun:
    """What one schemathesis run did, from its JSON report."""

    command: str
    exit_code: int
    seconds: float
    operations: int
    test_cases: int
    failures: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    phases: dict[str, str]

    @property
    def server_errors(self) -> int:
        """Responses with a 5xx status (schemathesis' ST101)."""
        return sum(int(failure.get("count", 0)) for failure in self.failures if failure.get("code") == "ST101")


def run_schemathesis(url: str, max_examples: int, seed: int, workers: int = 1) -> FuzzRun:
    """`st run` on URL/openapi.json, its exit code and report; the report says what each failure was."""
    with tempfile.TemporaryDirectory(prefix="onnx-lambda-fuzz-") as scratch:
        report = Path(scratch) / "report.json"
        command = [
            str(Path(sys.executable).with_name("st")),
            "run",
            f"{url}/openapi.json",
            "--checks=all",
            f"--exclude-checks={','.join(EXCLUDED_CHECKS)}",
            f"--max-examples={max_examples}",
            f"--seed={seed}",
            f"--workers={workers}",
            "--generation-database=none",
            "--no-color",
            "--report=json",
            f"--report-json-path={report}",
        ]
        started = time.perf_counter()
        finished = subprocess.run(command, cwd=scratch, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        if finished.returncode not in (0, 1) or not report.is_file():  # 0 clean, 1 failures found; else it broke
            raise RuntimeError(f"schemathesis stopped with exit {finished.returncode}:\n{finished.stdout[-4000:]}")
        data = json.loads(report.read_text())
    return FuzzRun(
        command=" ".join(["st", *command[1:-2]]),
        exit_code=finished.returncode,
        seconds=seconds,
        operations=int(data["operations"]["tested"]),
        test_cases=int(data["test_cases"]["generated"]),
        failures=list(data.get("failures", [])),
        errors=list(data.get("errors", [])),
        phases={name: str(phase.get("status")) for name, phase in data.get("phases", {}).items()},
    )


def fuzz(max_examples: int, seed: int, stage: str | None = None) -> FuzzRun:
    """Start the local gateway (optionally under a stage path), fuzz it, stop it."""
    args = ("--stage", stage) if stage else ()
    with spawn_gateway(*args) as gateway:
        return run_schemathesis(gateway.url, max_examples, seed)


def markdown(run: FuzzRun, stage: str | None) -> str:
    """docs/fuzz.md: what was run and what it found."""
    failures = ", ".join(f"{f.get('code')} {f.get('title')} x{f.get('count')}" for f in run.failures) or "none"
    return "\n".join(
        [
            "# API fuzzing (`make fuzz`)",
            "",
            "schemathesis against `/openapi.json` of the local gateway"
            + (f" under the stage path `/{stage}`" if stage else "")
            + ", every request through `handler.entrypoint.lambda_handler` (written by `python -m bench.fuzz`).",
            "",
            "| operations | requests tried | 5xx | failures | errors | seconds |",
            "|---|---|---|---|---|---|",
            f"| {run.operations} | {run.test_cases} | {run.server_errors} | {failures} | {len(run.errors)} "
            f"| {run.seconds:.0f} |",
            "",
            "Phases: " + ", ".join(f"{name} {status}" for name, status in run.phases.items()) + ".",
            "",
            f"Command: `{run.command}`; checks left out: {', '.join(EXCLUDED_CHECKS)} (see bench/fuzz.py for why).",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=1000, help="test cases per operation and phase")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="fixed, so a run can be repeated exactly")
    parser.add_argument("--stage", default=None, help="serve under a stage path, as API Gateway REST does")
    parser.add_argument("--out", type=Path, default=None, help="write fuzz.md into this directory")
    args = parser.parse_args()
    run = fuzz(args.max_examples, args.seed, args.stage)
    text = markdown(run, args.stage)
    print(text)
    if args.out:
        (args.out / "fuzz.md").write_text(text)
    sys.exit(0 if run.exit_code == 0 and not run.failures and not run.errors else 1)


if __name__ == "__main__":
    main()
