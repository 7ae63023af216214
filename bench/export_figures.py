"""int8 quantization and offline graph optimisation of the default CNN, as `model_export` reports them.

The export is run as a user would (`python -m model_export digits --quantize int8 --optimize`) into a
temporary directory; its figures are read back from the files' own metadata (`quantization` in the
int8 file, `optimization` in the float one), so the report shows exactly what the tool measured.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import onnxruntime as ort

from bench.measure import REPO


def _metadata(path: Path, key: str) -> dict[str, Any]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    figures: dict[str, Any] = json.loads(session.get_modelmeta().custom_metadata_map[key])
    return figures


def measure() -> tuple[dict[str, Any], dict[str, Any]]:
    """(quantization figures, optimisation figures) for digits-cnn."""
    with tempfile.TemporaryDirectory() as tmp:
        export = [sys.executable, "-m", "onnx_lambda", "export", "digits"]
        command = [*export, "--quantize", "int8", "--optimize", "--out-dir", tmp]
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False, timeout=600)
        if result.returncode != 0:
            raise RuntimeError(f"onnx-lambda export digits --quantize failed:\n{result.stderr[-2000:]}")
        folder = Path(tmp)
        return _metadata(folder / "digits-cnn.int8.onnx", "quantization"), _metadata(
            folder / "digits-cnn.onnx", "optimization"
        )


def section(quantization: dict[str, Any], optimization: dict[str, Any]) -> list[str]:
    q, o = quantization, optimization
    lines = ["## int8 quantization and graph optimisation (digits-cnn, `model_export`)", ""]
    lines += ["| figure | float | int8 |", "|---|---|---|"]
    lines.append(f"| file size | {q['float_bytes'] / 1000:.1f} kB | {q['int8_bytes'] / 1000:.1f} kB |")
    lines.append(
        f"| held-out {q['metric']} ({q['samples']} samples) | {q['float_score']:.4f} | {q['int8_score']:.4f} |"
    )
    for latency in q["latency"]:
        rows = latency["rows"]
        lines.append(f"| session.run, {rows} rows, median ms | {latency['float_ms']:.3f} | {latency['int8_ms']:.3f} |")
    lines += ["", f"Quantized {q['quantized_nodes']} {'/'.join(q['op_types'])} nodes ({q['weight_type']} weights,"]
    lines += [
        f"per channel: {q['per_channel']}); accuracy drop {q['drop']:.4f}, refused above {q['max_accuracy_drop']}.",
        "",
    ]
    lines += ["| offline optimisation (level " + o["level"] + ") | before | after |", "|---|---|---|"]
    lines.append(f"| graph nodes | {o['nodes_before']} | {o['nodes_after']} |")
    times = f"{o['session_ms_before']:.2f} | {o['session_ms_after']:.2f}"
    lines.append(f"| session creation, median of {o['sessions']}, ms | {times} |")
    return lines
