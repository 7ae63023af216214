"""docs/benchmarks.md and its charts, from one run's results, with every target next to its figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.cold_start import CONTESTANTS as COLD_CONTESTANTS
from bench.export_figures import section as export_section
from bench.hostile_files import section
from bench.real_inputs import section as real_inputs_section
from bench.record_path import section as records_section
from bench.results import Results
from bench.targets import target_table
from bench.warm_latency import Warm

WARM_NOTE = (
    "Each row is the median over fresh processes taken in turns (project, naive, peer, project, ...: five each in a"
    " full run), each process's figure the median (or p99) of its own requests."
)


def _find(rows: list[Warm], contestant: str, scenario: str, threads: int = 1) -> Warm:
    return next(r for r in rows if (r.contestant, r.scenario, r.threads) == (contestant, scenario, threads))


def cold_section(r: Results, charts: Path) -> list[str]:
    names = list(COLD_CONTESTANTS)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    colors = {"floor": "#999", "project": "#2a7", "naive": "#e93", "peer": "#c55"}
    ax.barh(names, [r.cold[n].median_ms for n in names], color=[colors[n.split("-")[-1]] for n in names])
    ax.set_xlabel("spawn -> first response (not exit), median ms")
    fig.tight_layout()
    fig.savefig(charts / "cold-start.png", dpi=100)
    plt.close(fig)
    lines = [
        "Spawn to the line the child prints right after its first response (the interpreter's teardown is not",
        "counted). The resnet pair is the 46.7 MB ResNet-18-sized CNN (bench/resnet_model.py); its floor is bare",
        "onnxruntime loading and running it once, and the project answers one [1, 3, 224, 224] binary request.",
        "",
        "| contestant | median ms | rounds | x its floor | peak RSS MiB |",
        "|---|---|---|---|---|",
    ]
    for n in names:
        c, floor = r.cold[n], r.cold["resnet-floor" if n.startswith("resnet") else "floor"].median_ms
        lines.append(f"| {n} | {c.median_ms:.0f} | {len(c.samples_ms)} | {c.median_ms / floor:.2f} | {c.rss_mib:.0f} |")
    lines += [
        "",
        "![cold start](benchmarks/cold-start.png)",
        "",
        "Import time of the entry point, by top-level package",
    ]
    lines += ["(`-X importtime`, self times summed):", "", "| package | ms |", "|---|---|"]
    lines += [f"| {name} | {ms:.1f} |" for name, ms in r.imports]
    return lines


def warm_table(rows: list[Warm]) -> list[str]:
    lines = ["| contestant | request | threads | handler p50 µs | p99 µs | raw p50 µs | overhead µs | handler / raw |"]
    lines.append("|---|---|---|---|---|---|---|---|")
    for w in rows:
        lines.append(
            f"| {w.contestant} | {w.scenario} | {w.threads} | {w.handler_p50_us:.0f} | {w.handler_p99_us:.0f} "
            f"| {w.raw_p50_us:.0f} | {w.overhead_us:.0f} | {w.ratio:.2f} |"
        )
    return lines


def threads_table(rows: list[Warm]) -> list[str]:
    """Latency and throughput (rows per second of one instance at p50) with 1 and 2 intra-op threads."""
    lines = [
        "| request | threads | handler p50 µs | raw p50 µs | rows/s through the handler |",
        "|---|---|---|---|---|",
    ]
    for w in rows:
        size = int(w.scenario.rsplit("-", 1)[1])
        rate = size / w.handler_p50_us * 1e6
        lines.append(f"| {w.scenario} | {w.threads} | {w.handler_p50_us:.0f} | {w.raw_p50_us:.0f} | {rate:,.0f} |")
    return lines


def wire_chart(r: Results, charts: Path) -> None:
    sizes = sorted({int(w.scenario.rsplit("-", 1)[1]) for w in r.wire})
    fig, ax = plt.subplots(figsize=(6, 3))
    for kind, color in (("infer", "#c55"), ("binary", "#2a7")):
        ax.plot(sizes, [_find(r.wire, "project", f"{kind}-{s}").ratio for s in sizes], "o-", color=color, label=kind)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel("handler / raw run (p50, log scale)")
    ax.legend(["JSON", "binary extension"])
    fig.tight_layout()
    fig.savefig(charts / "wire.png", dpi=100)
    plt.close(fig)


def gateway_section(r: Results) -> list[str]:
    if r.gateway is None:
        return []
    handler = _find(r.warm, "project", "predict-1")
    return [
        "## Local gateway",
        "",
        f"`onnx-lambda serve`, one keep-alive connection, the predict-1 request {r.gateway.requests} times: p50",
        f"{r.gateway.p50_us:.0f} µs, p99 {r.gateway.p99_us:.0f} µs at the client, against",
        f"{handler.handler_p50_us:.0f} µs for the handler answering the same event in-process. make load",
        "(docs/load.md) goes through it.",
    ]


def other_sections(r: Results) -> list[str]:
    peer_mb, peer_count = r.peer_footprint
    lines = [
        "## S3 batch path",
        "",
        "| file | records | MiB | handler records/s | raw records/s | ratio | peak RSS MiB |",
    ]
    lines += ["|---|---|---|---|---|---|---|"]
    for b in r.batch:
        rates = f"{b.handler_records_s:,.0f} | {b.raw_records_s:,.0f} | {b.ratio:.2f}"
        lines += [f"| {b.file_format} | {b.records:,} | {b.file_mib:.1f} | {rates} | {b.peak_rss_mib:.0f} |"]
    lines += ["", *section(r.hostile), "", *records_section(r.records)]
    if r.images:
        lines += ["", *real_inputs_section(r.images, r.generation)]
    lines += ["", "## Footprint", "", "| set | MB |", "|---|---|"]
    for arch, sizes in r.footprint.items():
        lines += [
            f"| this project, what the image installs ({arch}) | {sizes['all']:.1f} |",
            f"| of which the image decoder (IMAGE_INPUTS=false drops it) | {sizes['IMAGE_INPUTS']:.1f} |",
            f"| of which the container-host server (HTTP_HOST=false drops it) | {sizes['HTTP_HOST']:.1f} |",
            f"| the Lambda set, both dropped ({arch}) | {sizes['lambda']:.1f} |",
        ]
    lines += [f"| the peer: torch (CPU build) + fastapi + mangum + numpy, {peer_count} distributions | {peer_mb:.0f} |"]
    return lines


def write_report(r: Results, out: Path) -> Path:
    charts = out / "benchmarks"
    charts.mkdir(parents=True, exist_ok=True)
    wire_chart(r, charts)
    lines = ["# Benchmarks", "", f"One run of `make bench` on {r.machine}. Medians of fresh processes; ratios", ""]
    lines += ["## Targets", "", *target_table(r), "", "## Cold start", "", *cold_section(r, charts), ""]
    lines += ["## Warm latency", "", WARM_NOTE, "", *warm_table(r.warm), "", "## Binary tensor extension vs JSON", ""]
    lines += [*warm_table(r.wire), "", "![binary vs JSON](benchmarks/wire.png)", ""]
    lines += ["## Threads", "", *threads_table(r.threads), "", *gateway_section(r), "", *other_sections(r), ""]
    lines += [*export_section(r.quantization, r.optimization), ""]
    path = out / "benchmarks.md"
    path.write_text("\n".join(lines))
    return path
