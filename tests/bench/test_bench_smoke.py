"""GIVEN `python -m bench --quick` (the smoke run of `make bench`) WHEN it runs end to end in a fresh
process THEN it writes docs-style benchmarks.md with every section, every target row and its charts.

No timing is asserted: the figures of a quick run on a busy machine mean nothing; that every benchmark
still runs (contestants answer 200, the peer agrees with the ONNX model, the report renders) does.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench import readme_targets
from bench.cold_start import CONTESTANTS
from bench.targets import TARGETS
from tests.testkit.paths import REPO

SECTIONS = ["## Targets", "## Cold start", "## Warm latency", "## Binary tensor extension vs JSON", "## Threads"]
SECTIONS += ["## Local gateway", "## S3 batch path", "## Hostile batch files", "## Records vs positional rows"]
SECTIONS += ["## Footprint"]
SECTIONS += ["## int8 quantization and graph optimisation", "## Image files and generated text"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_the_quick_benchmark_run_writes_the_whole_report(tmp_path: Path, default_model: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text((REPO / "README.md").read_text())
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path), "--readme", str(readme)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = (tmp_path / "benchmarks.md").read_text()
    for section in SECTIONS:
        assert section in report
    measured = r"-?[0-9.]+(x| MiB| MB| ms)( \(.+\))?"
    target_rows = re.findall(rf"^\| (.+) \| [≤≥] .+ \| {measured} \| (met|\*\*missed\*\*) \|$", report, re.M)
    assert [row[0] for row in target_rows] == [target.figure for target in TARGETS]
    assert readme_targets.between_marks(readme.read_text()) == readme_targets.table_of_report(report)
    for contestant in CONTESTANTS:
        assert re.search(rf"^\| {contestant} \| [0-9]+ \| 2 \|", report, re.M)
    for chart in ("cold-start.png", "wire.png"):
        assert (tmp_path / "benchmarks" / chart).read_bytes().startswith(PNG_SIGNATURE)
