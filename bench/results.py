"""What one run of `make bench` measured, gathered for the report and its target table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.batch_path import BatchPath
from bench.cold_start import ColdStart
from bench.gateway_latency import GatewayLatency
from bench.hostile_files import HostileFile
from bench.real_inputs import Row
from bench.record_path import RecordPath
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
    footprint: dict[str, dict[str, float]] = field(default_factory=dict)
    peer_footprint: tuple[float, int] = (0.0, 0)
    gateway: GatewayLatency | None = None
    quantization: dict[str, Any] = field(default_factory=dict)
    optimization: dict[str, Any] = field(default_factory=dict)

    def warm_row(self, contestant: str, scenario: str, threads: int = 1) -> Warm:
        rows = self.warm + self.wire + self.threads
        return next(r for r in rows if (r.contestant, r.scenario, r.threads) == (contestant, scenario, threads))

    def batch_row(self, file_format: str) -> BatchPath:
        return next(b for b in self.batch if b.file_format == file_format)
