"""What each hand-written piece of handler/ costs against the dependency's own: the figures its docstrings cite.

    python bench/dependency_costs.py imports   [--runs 15] [--before DIR]
    python bench/dependency_costs.py calls     [--before DIR]
    python bench/dependency_costs.py requests  --before DIR [--rounds 7] [--calls 400]
    python bench/dependency_costs.py responses [--processes 3] [--blocks 40] [--calls 30]

DIR is a copy of handler/ from before a change: ``mkdir DIR && git archive HEAD handler | tar -x -C DIR``.

imports    milliseconds one ``import`` adds on top of what is already imported (wall and CPU), median of fresh
           processes, the cases interleaved: pydantic-settings on top of pydantic and on top of the API function's
           whole cold path (``import handler.entrypoint``); Powertools' correlation_paths and jmespath on DIR's cold
           path, and whether jmespath is already on it; the installed size of pydantic-settings and python-dotenv.
calls      microseconds of one correlation-id lookup per kind of event (and of the same path through Powertools'
           ``query()``), and of one classification (the project's ``identify``, Mangum's ``infer``), in isolation
           (timeit, best of 7), in this tree and in DIR's.
requests   microseconds per invocation of handler.entrypoint.lambda_handler, the real entry point, on
           events/http-api-v2.predict.json and the health event: DIR's tree against this one in interleaved fresh
           processes; then, within each of a few fresh processes, the variants alternating block by block (ABBA,
           paired, so the machine's drift falls on all of them): the correlation ids as served, through Powertools'
           ``query()`` and by the hand-written lookups; Mangum classifying the event again, and handed the kind.
responses  the same paired blocks for /predict with 1 and 256 digits and /v2/models/digits-cnn/infer with 1 and 256:
           as served (fast_json), and with the routes handing FastAPI the same dict to validate against their
           response_model and serialise (exclude_unset, so the answer's bytes are the same: checked).

Times are the process's CPU time per invocation, onnxruntime on one thread: on a shared machine, time spent
descheduled is no cost of either variant. Run from the repository root with the project's venv; every child is
``python bench/dependency_costs.py child-...`` with PYTHONPATH set to the tree it measures.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# Each child: this module run from the tree it measures (its handler/ first on sys.path), bench/ from REPO.
CHILD = [sys.executable, "-m", "bench.dependency_costs"]
EVENTS = REPO / "events"
MODEL = REPO / "models" / "digits-cnn.onnx"
DIGITS = REPO / "models" / "digits-test.npz"
INFER_PATH = "/v2/models/digits-cnn/infer"


def _env(tree: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_LAMBDA_", "_X_AMZN"))}
    one_thread = {"ORT_INTRA_OP_THREADS": "1"}  # so process CPU time is the request's work (see child_toggle)
    path = os.pathsep.join([str(tree), str(REPO)])
    return env | one_thread | {"PYTHONPATH": path, "MODEL_PATH": str(MODEL), "PYTHONDONTWRITEBYTECODE": "1"}


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- imports ------------------------------------------------------------------------------------------------------

COLD_PATH = "import handler.entrypoint"
IMPORT_CASES: dict[str, tuple[str, str]] = {
    # name: (what is imported first, the import measured); "(before)" cases run on the --before tree
    "pydantic_settings on pydantic": (
        "import pydantic; from pydantic import BaseModel, ConfigDict, Field, ValidationError",
        "import pydantic_settings",
    ),
    "pydantic_settings on the cold path": (COLD_PATH, "import pydantic_settings"),
    "correlation_paths on the cold path (before)": (
        COLD_PATH,
        "from aws_lambda_powertools.logging import correlation_paths",
    ),
    "jmespath on the cold path (before)": (COLD_PATH, "import jmespath"),
    "nothing on the cold path": (COLD_PATH, "pass"),  # the timer's own floor
}


def _import_script(prelude: str, statement: str) -> str:
    return (
        f"{prelude}\nimport sys, time\nbefore = set(sys.modules)\n"
        f"started, cpu = time.perf_counter(), time.process_time()\n{statement}\n"
        "elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu\n"
        "new = sorted(set(sys.modules) - before)\n"
        "print('RESULT ' + __import__('json').dumps({'ms': elapsed * 1000, 'cpu_ms': cpu * 1000, 'new': new, "
        "'jmespath_loaded': 'jmespath' in before}))\n"
    )


def _run_import(prelude: str, statement: str, tree: Path = REPO) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", _import_script(prelude, statement)],
        cwd=tree,  # python -c puts the working directory first on sys.path: the tree measured must be it
        env=_env(tree),
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in reversed(result.stdout.splitlines()) if line.startswith("RESULT "))
    answer: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    return answer


def _installed_kb(*distributions: str) -> dict[str, float]:
    sizes = {}
    for name in distributions:
        dist = importlib.metadata.distribution(name)
        files = [dist.locate_file(path) for path in dist.files or ()]
        sizes[name] = sum(Path(str(path)).stat().st_size for path in files if Path(str(path)).is_file()) / 1024
    return sizes


def imports(runs: int, before: Path | None) -> None:
    samples: dict[str, list[float]] = {name: [] for name in IMPORT_CASES}
    cpu: dict[str, list[float]] = {name: [] for name in IMPORT_CASES}
    extra: dict[str, dict[str, Any]] = {}
    for run in range(runs):
        order = list(IMPORT_CASES) if run % 2 == 0 else list(reversed(IMPORT_CASES))
        for name in order:
            if name.endswith("(before)") and before is None:
                continue
            answer = _run_import(*IMPORT_CASES[name], tree=before if name.endswith("(before)") and before else REPO)
            samples[name].append(answer["ms"])
            cpu[name].append(answer["cpu_ms"])
            extra[name] = answer
    for name, values in samples.items():
        if not values:
            continue
        print(
            f"{name:40s} wall median {_median(values):7.2f} ms (min {min(values):6.2f}, max {max(values):6.2f}); "
            f"CPU median {_median(cpu[name]):7.2f} ms (min {min(cpu[name]):6.2f}); n={runs}"
        )
        print(
            f"{'':40s} {len(extra[name]['new'])} modules new; jmespath already loaded: {extra[name]['jmespath_loaded']}"
        )
    print("new on the cold path with pydantic_settings:", extra["pydantic_settings on the cold path"]["new"])
    print("installed size (kB, RECORD files incl. .pyc):", _installed_kb("pydantic-settings", "python-dotenv"))


def main() -> None:
    from bench.dependency_calls import calls, child_calls  # noqa: PLC0415
    from bench.dependency_requests import child_toggle, requests, responses  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    imports_command = sub.add_parser("imports")
    imports_command.add_argument("--runs", type=int, default=15)
    imports_command.add_argument("--before", type=Path)
    requests_command = sub.add_parser("requests")
    requests_command.add_argument("--before", type=Path, required=True)
    requests_command.add_argument("--rounds", type=int, default=7)
    requests_command.add_argument("--calls", type=int, default=400)
    responses_command = sub.add_parser("responses")
    responses_command.add_argument("--processes", type=int, default=3)
    responses_command.add_argument("--blocks", type=int, default=40)
    responses_command.add_argument("--calls", type=int, default=30)
    sub.add_parser("calls").add_argument("--before", type=Path)
    child = sub.add_parser("child-toggle")
    for arg in ("experiment", "event_file", "blocks", "calls", "out"):
        child.add_argument(arg)
    sub.add_parser("child-calls")
    args = parser.parse_args()
    if args.command == "imports":
        imports(args.runs, args.before)
    elif args.command == "requests":
        requests(args.before, args.rounds, args.calls)
    elif args.command == "responses":
        responses(args.processes, args.blocks, args.calls)
    elif args.command == "calls":
        calls(args.before)
    elif args.command == "child-toggle":
        child_toggle(args.experiment, args.event_file, int(args.blocks), int(args.calls), args.out)
    else:
        child_calls()


if __name__ == "__main__":
    main()
