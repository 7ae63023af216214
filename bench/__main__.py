"""`make bench`: run every benchmark, side by side in one run, and write docs/benchmarks.md with charts.

    python -m bench [--quick] [--out docs]

--quick is the smoke run `make test` does: every benchmark and the report, with few repetitions (its
figures mean nothing; that it runs end to end is what is checked).
"""

from __future__ import annotations

import argparse
import compileall
import platform
import time
from pathlib import Path

from bench import (
    batch_path,
    cold_start,
    export_figures,
    footprint,
    gateway_latency,
    hostile_files,
    readme_targets,
    real_inputs,
    record_path,
    warm_latency,
)
from bench.measure import REPO
from bench.peer_weights import peer_weights
from bench.report import write_report
from bench.results import Results
from bench.targets import target_table

WARM_SCENARIOS = ("predict-1", "infer-1", "predict-256", "infer-256")
WIRE_SIZES = (1, 256, 4096)


def run(quick: bool) -> Results:
    rounds, budget, records = (2, 60, 4096) if quick else (15, 3000, 200_000)
    hostile_mib = 8 if quick else 332
    wire_sizes = WIRE_SIZES[:2] if quick else WIRE_SIZES
    thread_scenarios = ("binary-256",) if quick else ("infer-1", "binary-256", "binary-4096")
    architectures = ("x86_64",) if quick else ("aarch64", "x86_64")
    peer_weights()
    # Bytecode first, as the image's build compiles handler/ (its Dockerfile): the children run with
    # PYTHONDONTWRITEBYTECODE, so a module never compiled would be compiled again in every cold start.
    compileall.compile_dir(REPO / "handler", quiet=1)
    results = Results(machine=f"{platform.machine()}, {platform.python_version()}, quick={quick}")
    print("cold start ...", flush=True)
    results.cold = cold_start.measure(rounds)
    results.imports = cold_start.import_breakdown()
    print("warm latency ...", flush=True)
    cases = [
        (contestant, scenario)
        for scenario in WARM_SCENARIOS
        for contestant in (("project", "naive", "peer") if scenario.startswith("predict") else ("project",))
    ]
    results.warm = warm_latency.interleaved(cases, budget, processes=1 if quick else 5)
    print("binary vs JSON ...", flush=True)
    for size in wire_sizes:
        for kind in ("infer", "binary"):
            scenario = f"{kind}-{size}"
            results.wire.append(warm_latency.measure("project", scenario, warm_latency.repeats_for(scenario, budget)))
    print("threads ...", flush=True)
    for threads in (1, 2):
        for scenario in thread_scenarios:
            repeats = warm_latency.repeats_for(scenario, budget)
            results.threads.append(warm_latency.measure("project", scenario, repeats, threads))
    print("local gateway ...", flush=True)
    results.gateway = gateway_latency.measure(50 if quick else 2000)
    print("records vs positional rows ...", flush=True)
    results.records = record_path.measure(20 if quick else 2000)
    print("image files and generated text ...", flush=True)
    results.images, results.generation = real_inputs.measure(10 if quick else 500, quick)
    print("batch path ...", flush=True)
    results.batch = [batch_path.measure(records, file_format) for file_format in ("jsonl", "csv", "npy")]
    print("hostile batch files ...", flush=True)
    results.hostile = hostile_files.measure_all(hostile_mib)
    print("footprint ...", flush=True)
    results.footprint = {arch: footprint.runtime_set_mb(arch) for arch in architectures}
    results.peer_footprint = footprint.peer_mb()
    print("int8 and graph optimisation ...", flush=True)
    results.quantization, results.optimization = export_figures.measure()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: few repetitions")
    parser.add_argument("--out", type=Path, default=Path("docs"), help="where benchmarks.md and charts go")
    parser.add_argument("--readme", type=Path, default=Path("README.md"), help="whose target table to rewrite")
    args = parser.parse_args()
    started = time.perf_counter()
    results = run(args.quick)
    path = write_report(results, args.out)
    readme_targets.write(args.readme, target_table(results))
    print(f"wrote {path} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
