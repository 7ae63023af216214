"""GIVEN an export WHEN --optimize asks for onnxruntime's offline-optimised graph THEN the written file is the
basic-level graph (standard ONNX domains only, so it opens on x86_64 and arm64 alike), parity is proven on it
again, session-creation times for both graphs are reported and stored, and a graph that fails parity is never
written."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import numpy_helper
from sklearn.linear_model import LogisticRegression

from model_export import ParityError, export_sklearn, export_torch, inspect_model, render_report
from model_export import writer as export_writer

Tuned = tuple[subprocess.CompletedProcess[str], Path]
Data = tuple[np.ndarray, np.ndarray]


@pytest.mark.slow
def test_digits_optimize_keeps_parity_and_reports_session_times(
    tuned_digits: Tuned, read_metadata: Callable[[Path], dict[str, str]]
) -> None:
    result, out_dir = tuned_digits
    for name in ("digits-cnn", "digits-sklearn"):
        printed = next(line for line in result.stdout.splitlines() if line.startswith(f"{name} --optimize: "))
        assert "basic level" in printed
        assert "session creation" in printed
        path = out_dir / f"{name}.onnx"
        meta = read_metadata(path)
        figures = json.loads(meta["optimization"])
        assert (figures["level"], figures["sessions"]) == ("basic", 21)
        assert min(figures["session_ms_before"], figures["session_ms_after"]) > 0
        assert 0 < figures["nodes_after"] <= figures["nodes_before"]
        parity = json.loads(meta["parity"])
        assert (parity["class_agreement"], parity["max_abs_diff"] < 1e-4) == (1.0, True)
        assert inspect_model(path).content_sha256 == "matches"
        graph = onnx.load(path)
        domains = {node.domain for node in graph.graph.node}
        assert domains <= {"", "ai.onnx.ml"}  # no com.microsoft fusions, no NCHWc layout: portable
        assert {entry.domain for entry in graph.opset_import} <= domains | {""}


def test_the_api_reports_the_optimisation(
    tmp_path: Path, classification_data: Data, read_metadata: Callable[[Path], dict[str, str]]
) -> None:
    x, y = classification_data
    report = export_sklearn(LogisticRegression(max_iter=1000).fit(x, y), tmp_path / "m.onnx", sample=x, optimize=True)
    assert report.optimization is not None
    assert report.optimization.session_ms_before > 0
    assert "  optimize basic level" in render_report(report)
    assert json.loads(read_metadata(tmp_path / "m.onnx")["optimization"]) == report.optimization.to_dict()


def test_an_optimised_graph_that_fails_parity_is_not_written(
    tmp_path: Path, net_module: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = export_writer.optimize_graph

    def corrupting(model: bytes) -> Any:
        optimized = real(model)
        weight = optimized.graph.initializer[0]
        weight.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(weight) * 2 + 1, weight.name))
        return optimized

    monkeypatch.setattr(export_writer, "optimize_graph", corrupting)
    with pytest.raises(ParityError, match=r"parity check failed.*nothing was written.*--optimize"):
        export_torch(net_module("opt_nets").Net(), tmp_path / "net.onnx", input_shape=(1, 4), optimize=True)
    assert list(tmp_path.glob("*.onnx")) == []
