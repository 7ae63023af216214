"""The target table of `make bench`: every target next to what this run measured, met or missed.

The same table goes into docs/benchmarks.md and, between its marks, into the README, so both always carry
one run's figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.record_path import TARGET as RECORDS_TARGET
from bench.results import Results


@dataclass(frozen=True)
class Target:
    figure: str
    target: str
    measured: Callable[[Results], float]
    met: Callable[[float], bool]
    unit: str = "x"
    note: Callable[[Results], str] = lambda _: ""


def _cold(contestant: str, versus: str) -> Callable[[Results], float]:
    return lambda r: r.cold[contestant].median_ms / r.cold[versus].median_ms


def _optional_parts(r: Results) -> str:
    largest = max(r.footprint.values(), key=lambda sizes: sizes["lambda"])
    return f" (+{largest['IMAGE_INPUTS']:.1f} MB image decoder, +{largest['HTTP_HOST']:.1f} MB container-host server)"


def _gateway_over_handler(r: Results) -> float:
    assert r.gateway is not None
    return (r.gateway.p50_us - r.warm_row("project", "predict-1").handler_p50_us) / 1000


def _p99_over_p50(r: Results) -> float:
    row = r.warm_row("project", "predict-256")
    return row.handler_p99_us / row.handler_p50_us


TARGETS = (
    Target(
        "spawn → first response, vs the floor (bare onnxruntime)",
        "≤ 1.5x",
        _cold("project", "floor"),
        lambda v: v <= 1.5,
    ),
    Target("spawn → first response, vs the PyTorch peer", "≤ 0.15x", _cold("project", "peer"), lambda v: v <= 0.15),
    Target(
        "spawn → first response, ResNet-18-sized, vs bare onnxruntime",
        "≤ 1.3x",
        _cold("resnet-project", "resnet-floor"),
        lambda v: v <= 1.3,
    ),
    Target(
        "per request, one instance through lambda_handler, p50, vs the naive ORT + FastAPI + Mangum app",
        "≤ 0.5x",
        lambda r: r.warm_row("project", "predict-1").handler_p50_us / r.warm_row("naive", "predict-1").handler_p50_us,
        lambda v: v <= 0.5,
    ),
    Target(
        "batch-256 JSON (infer), handler ÷ raw run",
        "≤ 1.5x",
        lambda r: r.warm_row("project", "infer-256").ratio,
        lambda v: v <= 1.5,
    ),
    Target(
        "batch-256 binary extension, handler ÷ raw run",
        "≤ 1.2x",
        lambda r: r.warm_row("project", "binary-256").ratio,
        lambda v: v <= 1.2,
    ),
    Target("p99 ÷ p50, /predict with 256 digits", "≤ 3x", _p99_over_p50, lambda v: v <= 3),
    Target("S3 JSON Lines, records/s ÷ raw run", "≥ 0.5x", lambda r: r.batch_row("jsonl").ratio, lambda v: v >= 0.5),
    Target("S3 CSV, records/s ÷ raw run", "≥ 0.5x", lambda r: r.batch_row("csv").ratio, lambda v: v >= 0.5),
    Target(
        "runtime install, largest architecture, without the optional parts",
        "≤ 130 MB",
        lambda r: max(sizes["lambda"] for sizes in r.footprint.values()),
        lambda v: v <= 130,
        " MB",
        _optional_parts,
    ),
    Target(
        "peak RSS at first response, digits", "≤ 80 MiB", lambda r: r.cold["project"].rss_mib, lambda v: v <= 80, " MiB"
    ),
    Target(
        "peak RSS at first response, ResNet-18-sized, vs bare onnxruntime",
        "≤ 1.2x",
        lambda r: r.cold["resnet-project"].rss_mib / r.cold["resnet-floor"].rss_mib,
        lambda v: v <= 1.2,
    ),
    Target(
        "local gateway keep-alive request, p50, over the handler's",
        "≤ 1 ms",
        _gateway_over_handler,
        lambda v: v <= 1,
        " ms",
    ),
    Target(
        "/predict, 256 named records vs 256 positional rows",
        f"≤ {RECORDS_TARGET}x",
        lambda r: r.records[0].ratio or 0.0,
        lambda v: v <= RECORDS_TARGET,
    ),
)


def target_table(r: Results) -> list[str]:
    lines = ["| figure | target | measured | |", "|---|---|---|---|"]
    for target in TARGETS:
        value = target.measured(r)
        mark = "met" if target.met(value) else "**missed**"
        lines.append(f"| {target.figure} | {target.target} | {value:.2f}{target.unit}{target.note(r)} | {mark} |")
    return lines
