"""GIVEN a model WHEN measured with onnx-lambda latency THEN INIT comes from the handler's loader and warm
latency from the real entry point, per batch size, as a table or JSON; a batch the function refuses is a
row saying why, and a model it cannot serve is one line, exit 3. (No timing is asserted: a busy machine's
figures mean nothing; that the measurement runs the real paths and reports coherent figures does.)"""

from __future__ import annotations

import json
from pathlib import Path

from tests.testkit.cli import one_error_line, run_cli

QUICK = ("--repeats", "20", "--init-runs", "2", "--batch-sizes", "1,4")


def test_bench_reports_init_and_warm_latency_per_batch_size_as_json(default_model: Path) -> None:
    result = run_cli("latency", str(default_model), *QUICK, "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    figures = json.loads(result.stdout)
    assert figures["model"] == {
        "name": "digits-cnn",
        "version": "1",
        "path": str(default_model),
        "size_bytes": default_model.stat().st_size,
    }
    assert figures["threads"] == 1
    init = figures["init"]
    assert init["runs"] == 2
    assert 0 < init["session_ms"] < init["total_ms"]
    assert [row["batch"] for row in figures["warm"]] == [1, 4]
    for row in figures["warm"]:
        assert 0 < row["raw_p50_ms"] < row["p50_ms"] <= row["p95_ms"]  # the entry point does more than the session
        assert row["repeats"] == 20


def test_bench_of_a_folder_loads_every_model_and_measures_the_default(default_model: Path) -> None:
    folder = default_model.parent  # models/: digits-cnn.onnx and digits-sklearn.onnx
    result = run_cli("latency", str(folder), *QUICK, "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["model"]["name"] == "digits-cnn"  # the default: the first by name
    assert figures["model"]["size_bytes"] == sum(path.stat().st_size for path in folder.rglob("*.onnx"))
    assert figures["init"]["session_ms"] > 0
    assert [row["batch"] for row in figures["warm"]] == [1, 4]


def test_bench_prints_a_table_and_points_at_make_bench(default_model: Path) -> None:
    result = run_cli("latency", str(default_model), *QUICK, "--threads", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("model   digits-cnn version 1 (")
    assert lines[0].endswith("2 onnxruntime threads")
    assert lines[1].startswith("INIT    session ")
    assert lines[1].endswith("(handler.model.load_model, median of 2)")
    header = next(index for index, line in enumerate(lines) if line.split()[:1] == ["batch"])
    assert lines[header].split() == ["batch", "p50", "p95", "session.run", "p50", "web", "layer", "p50"]
    assert [line.split()[0] for line in lines[header + 1 : header + 3]] == ["1", "4"]
    assert "make bench" in lines[-1]


def test_a_batch_the_function_refuses_is_a_row_saying_why(default_model: Path) -> None:
    result = run_cli("latency", str(default_model), *QUICK[:4], "--batch-sizes", "2,8", env={"MAX_BATCH_SIZE": "4"})
    assert result.returncode == 0, result.stderr
    refused = next(line for line in result.stdout.splitlines() if line.split()[:1] == ["8"])
    assert "HTTP 413: " in refused
    assert "MAX_BATCH_SIZE" in refused or "4" in refused


def test_a_model_the_function_cannot_serve_is_one_line_exit_3(tmp_path: Path) -> None:
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    result = run_cli("latency", str(tmp_path / "broken.onnx"), *QUICK)
    assert result.returncode == 3
    assert one_error_line(result).startswith(f"error: MODEL_PATH={str(tmp_path / 'broken.onnx')!r} is not a loadable")
