"""docs/benchmarks.md and its charts, from one run's results, with every target next to its figure."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.batch_path import BatchPath
from bench.cold_start import ColdStart
from bench.export_figures import section as export_section
from bench.hostile_files import HostileFile, section
from bench.real_inputs import Row
from bench.real_inputs import section as real_inputs_section
from bench.record_path import TARGET as RECORDS_TARGET
from bench.record_path import RecordPath
from bench.record_path import section as records_section
from bench.warm_latency import Warm


@dataclass
class Results:
    machine: str
    cold: dict[str, ColdStart] = field(default_factory=dict)
    imports: list[tuple[str, float]] = field(default_factory=list)
    warm: list[Warm] = field(default_factory=list)
    wire: list[Warm] = field(default_factory=list)
    threads: list[Warm] = field(default_factory=list)
    batch: list[BatchPath] = field(default_factory=list)
    hostile: list[HostileFile] = field(default_factory=list)
    records: list[RecordPath] = field(default_factory=list)
    images: list[Row] = field(default_factory=list)
    generation: list[Row] = field(default_factory=list)
    footprint: dict[str, float] = field(default_factory=dict)
    peer_footprint: tuple[float, int] = (0.0, 0)
    quantization: dict[str, Any] = field(default_factory=dict)
    optimization: dict[str, Any] = field(default_factory=dict)


def _find(rows: list[Warm], contestant: str, scenario: str, threads: int = 1) -> Warm:
    return next(r for r in rows if (r.contestant, r.scenario, r.threads) == (contestant, scenario, threads))


def _mark(met: bool) -> str:
    return "met" if met else "**missed**"


def targets(r: Results) -> list[str]:
    cold, floor, peer = r.cold["project"].median_ms, r.cold["floor"].median_ms, r.cold["peer"].median_ms
    single = _find(r.warm, "project", "infer-1")
    batch_json, batch_binary = _find(r.wire, "project", "infer-256"), _find(r.wire, "project", "binary-256")
    size = max(r.footprint.values())
    jsonl = r.batch[0]
    records = r.records[0].ratio or 0.0
    rows = [
        ("cold start, first response vs the peer", "≤ 0.25x", f"{cold / peer:.2f}x", cold / peer <= 0.25),
        ("cold start, first response vs the floor", "≤ 2x", f"{cold / floor:.2f}x", cold / floor <= 2),
        (
            "peak RSS at first response",
            "≤ 100 MiB",
            f"{r.cold['project'].rss_mib:.0f} MiB",
            r.cold["project"].rss_mib <= 100,
        ),
        (
            "overhead over raw run, one instance, p50",
            "≤ 100 µs",
            f"{single.overhead_us:.0f} µs",
            single.overhead_us <= 100,
        ),
        ("batch-256 JSON, handler / raw", "≤ 2x", f"{batch_json.ratio:.2f}x", batch_json.ratio <= 2),
        (
            "batch-256 binary extension, handler / raw",
            "≤ 1.3x",
            f"{batch_binary.ratio:.2f}x",
            batch_binary.ratio <= 1.3,
        ),
        ("runtime install size (largest arch)", "≤ 130 MB", f"{size:.0f} MB", size <= 130),
        ("S3 batch path, JSON Lines, records/s vs raw run", "≥ 0.5x", f"{jsonl.ratio:.2f}x", jsonl.ratio >= 0.5),
        (
            "/predict, 256 named records vs 256 positional rows",
            f"≤ {RECORDS_TARGET}x",
            f"{records:.2f}x",
            records <= RECORDS_TARGET,
        ),
    ]
    lines = ["| figure | target | measured | |", "|---|---|---|---|"]
    lines += [f"| {name} | {target} | {value} | {_mark(met)} |" for name, target, value, met in rows]
    return lines


def cold_section(r: Results, charts: Path) -> list[str]:
    names = ["floor", "project", "peer"]
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.barh(names, [r.cold[n].median_ms for n in names], color=["#999", "#2a7", "#c55"])
    ax.set_xlabel("fresh process -> first response, median ms")
    fig.tight_layout()
    fig.savefig(charts / "cold-start.png", dpi=100)
    plt.close(fig)
    lines = ["| contestant | median ms | rounds | x floor | peak RSS MiB |", "|---|---|---|---|---|"]
    floor = r.cold["floor"].median_ms
    for n in names:
        c = r.cold[n]
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
    lines += [f"| this project, what the image installs ({arch}) | {mb:.0f} |" for arch, mb in r.footprint.items()]
    lines += [f"| the peer: torch (CPU build) + fastapi + mangum + numpy, {peer_count} distributions | {peer_mb:.0f} |"]
    return lines


def write_report(r: Results, out: Path) -> Path:
    charts = out / "benchmarks"
    charts.mkdir(parents=True, exist_ok=True)
    wire_chart(r, charts)
    lines = ["# Benchmarks", "", f"One run of `make bench` on {r.machine}. Medians of fresh processes; ratios", ""]
    lines += ["## Targets", "", *targets(r), "", "## Cold start", "", *cold_section(r, charts), ""]
    lines += ["## Warm latency", "", *warm_table(r.warm), "", "## Binary tensor extension vs JSON", ""]
    lines += [*warm_table(r.wire), "", "![binary vs JSON](benchmarks/wire.png)", ""]
    lines += ["## Threads", "", *threads_table(r.threads), "", *other_sections(r), ""]
    lines += [*export_section(r.quantization, r.optimization), ""]
    path = out / "benchmarks.md"
    path.write_text("\n".join(lines))
    return path
