"""GIVEN the digits CNN WHEN `onnx-lambda export digits --quantize int8` runs THEN digits-cnn.int8.onnx is
written beside the float model with its size, latency and accuracy figures (printed and in its metadata), it
scores what it claims on the held-out set, and the handler's loader serves it."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from handler.model import load_model
from handler.settings import settings_from_env
from model_export import inspect_model

Tuned = tuple[subprocess.CompletedProcess[str], Path]

pytestmark = pytest.mark.slow


def _quantization(read_metadata: Callable[[Path], dict[str, str]], out_dir: Path) -> dict[str, Any]:
    figures: dict[str, Any] = json.loads(read_metadata(out_dir / "digits-cnn.int8.onnx")["quantization"])
    return figures


def test_the_cli_prints_size_accuracy_and_latency_before_and_after(tuned_digits: Tuned) -> None:
    result, out_dir = tuned_digits
    lines = result.stdout.splitlines()
    wrote = next(line for line in lines if line.startswith("wrote "))
    assert wrote.startswith(f"wrote {out_dir / 'digits-cnn.int8.onnx'} (")
    assert "2 MatMul/Gemm weights as QUInt8 per channel" in wrote
    size, accuracy, latency = lines[lines.index(wrote) + 1 : lines.index(wrote) + 4]
    assert re.fullmatch(r"  size     15\d\.\d kB -> \d+\.\d kB \(-\d+%\)", size), size
    accuracy_figures = r"  accuracy 0\.9\d{3} -> 0\.9\d{3} on 360 held-out samples \(drop -?0\.\d{4}, allowed 0\.01\); "
    assert re.fullmatch(accuracy_figures + r"max \|int8 - float\| \S+ in probabilities", accuracy), accuracy
    times = r"\d+\.\d{3} -> \d+\.\d{3} ms"
    assert re.fullmatch(rf"  latency  1 row {times}; 64 rows {times} \(median session.run, 1 thread\)", latency), (
        latency
    )


def test_the_metadata_carries_the_figures_and_they_hold(
    tuned_digits: Tuned,
    read_metadata: Callable[[Path], dict[str, str]],
    run_onnx: Callable[[Path, np.ndarray], dict[str, np.ndarray]],
) -> None:
    _, out_dir = tuned_digits
    figures = _quantization(read_metadata, out_dir)
    int8, float_path = out_dir / "digits-cnn.int8.onnx", out_dir / "digits-cnn.onnx"
    assert (figures["method"], figures["metric"], figures["samples"]) == ("dynamic", "accuracy", 360)
    assert (figures["float_bytes"], figures["int8_bytes"]) == (float_path.stat().st_size, int8.stat().st_size)
    assert int8.stat().st_size < 0.5 * float_path.stat().st_size
    held_out = np.load(out_dir / "digits-test.npz")
    for path, key in [(float_path, "float_score"), (int8, "int8_score")]:
        served = run_onnx(path, held_out["X"])["label"]  # the class names, "0" to "9"
        assert np.mean(served.astype(np.int64) == held_out["y"]) == pytest.approx(figures[key])
    assert figures["drop"] == pytest.approx(figures["float_score"] - figures["int8_score"])
    assert figures["drop"] <= figures["max_accuracy_drop"] == 0.01
    assert 0 < figures["max_abs_diff"] < 0.2
    assert [entry["rows"] for entry in figures["latency"]] == [1, 64]
    assert all(entry["float_ms"] > 0 and entry["int8_ms"] > 0 for entry in figures["latency"])
    meta = read_metadata(int8)
    assert float(meta["test_accuracy"]) == pytest.approx(figures["int8_score"], abs=1e-6)
    assert "parity" not in meta  # parity compares the float graph with torch; the int8 graph has its own figures
    assert inspect_model(int8).content_sha256 == "matches"


def test_the_handler_loader_serves_the_int8_model(tuned_digits: Tuned) -> None:
    _, out_dir = tuned_digits
    settings = settings_from_env({"MODEL_PATH": str(out_dir / "digits-cnn.int8.onnx"), "ORT_INTRA_OP_THREADS": "1"})
    model, report = load_model(settings, "on-demand")
    assert (model.info.name, model.info.task, report.threads) == ("digits-cnn", "classification", 1)
    assert "quantization" in model.info.metadata
    held_out = np.load(out_dir / "digits-test.npz")
    outputs = model.infer({"input": held_out["X"]})
    assert np.mean(outputs["label"].astype(np.int64) == held_out["y"]) >= 0.95
    assert outputs["probabilities"].shape == (360, 10)


def test_the_float_model_stays_as_digits_writes_it(
    tuned_digits: Tuned, read_metadata: Callable[[Path], dict[str, str]]
) -> None:
    _, out_dir = tuned_digits
    assert sorted(path.name for path in out_dir.iterdir()) == [
        "digits-cnn.int8.onnx",
        "digits-cnn.onnx",
        "digits-sklearn.onnx",  # skl2onnx's LinearClassifier has no MatMul: never quantized
        "digits-test.npz",
    ]
    assert "quantization" not in read_metadata(out_dir / "digits-cnn.onnx")
