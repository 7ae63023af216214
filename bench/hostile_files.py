"""Peak RSS of the real entry point scoring files built to exhaust it, from moto on a loopback port, each in a
fresh process with the template's batch settings (BATCH_CHUNK_RECORDS=2048, BATCH_CHUNK_BYTES=8 MiB,
MAX_RECORD_BYTES=1 MiB). Before issue 15, a 332 MiB file of long rejected lines peaked at 3.9 GiB (2,048
lines held and parsed whole), more than the batch function's 3,538 MB; a baseline of clean digits is beside it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bench.batch_path import jsonl, score_in_child

LONG_LINE = b"[" + b"0," * 523_000 + b"0]"  # 1,046,003 bytes: just under MAX_RECORD_BYTES, 523,001 values


@dataclass(frozen=True)
class HostileFile:
    name: str
    file_mib: float
    records: int
    failed: int
    peak_rss_mib: float


def long_rejected_lines(mib: int) -> tuple[bytes, int]:
    """Lines of half a million numbers each (the model takes 64): read, parsed, each rejected."""
    count = mib * 2**20 // len(LONG_LINE)
    return b"\n".join([LONG_LINE] * count) + b"\n", count


def lying_npy_header(_: int) -> tuple[bytes, int]:
    """A .npy of 3 rows whose header claims a billion: the rows it lacks fail as one run."""
    out = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": (1_000_000_000, 1, 8, 8)}
    np.lib.format.write_array_header_1_0(out, header)
    return out.getvalue() + np.zeros((3, 1, 8, 8), np.float32).tobytes(), 1_000_000_000


def clean_digits(mib: int) -> tuple[bytes, int]:
    """The baseline: well-formed digits lines of the same total size."""
    records = mib * 2**20 // 228  # a digits line is ~228 bytes
    return jsonl(records), records


FILES: dict[str, tuple[str, Callable[[int], tuple[bytes, int]]]] = {
    "clean digits (baseline)": ("jsonl", clean_digits),
    "long rejected lines, each just under MAX_RECORD_BYTES": ("jsonl", long_rejected_lines),
    "a .npy header claiming 1e9 rows for 3": ("npy", lying_npy_header),
}


def measure(name: str, mib: int) -> HostileFile:
    extension, build = FILES[name]
    data, records = build(mib)
    result = score_in_child(data, f"input/hostile.{extension}", {"ORT_INTRA_OP_THREADS": "1"})
    counts = result["records"]
    assert counts["in"] == records == counts["scored"] + counts["failed"], (name, counts)
    return HostileFile(name, len(data) / 2**20, records, counts["failed"], result["rss_mib"])


def measure_all(mib: int) -> list[HostileFile]:
    return [measure(name, mib) for name in FILES]


def section(rows: list[HostileFile]) -> list[str]:
    lines = ["## Hostile batch files", "", (__doc__ or "").split("\n\n")[0].replace("\n", " "), ""]
    lines += ["| file | MiB | records | failed | peak RSS MiB |", "|---|---|---|---|---|"]
    lines += [f"| {r.name} | {r.file_mib:.1f} | {r.records:,} | {r.failed:,} | {r.peak_rss_mib:.0f} |" for r in rows]
    return lines
