"""``onnx-lambda latency``: a quick measurement of a user's own model through the handler's real code paths.

Not the comparative benchmark (``make bench``: fresh processes, the PyTorch peer, the floor, charts); a
minute's answer to "what will INIT and a warm request cost with my model", in this one process.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from handler.contract import human_bytes
from onnx_lambda.errors import EXIT_OK
from onnx_lambda.function import configure, function_output, init_errors, load_entrypoint, resolve_model
from onnx_lambda.parsing import MODEL_HELP, Commands, add_command, positive_int

DETAILS = """
INIT: the handler's own loader (handler.model.load_model: the onnxruntime session with the function's
thread settings, then its warm-up inference), --init-runs times; medians. Warm: an Open Inference
Protocol JSON request built from the model's own signature (POST /v2/models/NAME/infer) through the
real entry point, handler.entrypoint.lambda_handler (FastAPI, Mangum and Powertools included), for
each batch size: --repeats timed calls after a few untimed ones, their p50 and p95, beside raw
session.run on the same arrays; the difference is what the web layer adds. One onnxruntime thread
by default: what the API function's 1,769 MB buys.

For the side-by-side report (this project vs the PyTorch peer vs bare onnxruntime: cold starts in fresh
processes, memory, the batch path, charts), run `make bench` in a clone: it writes docs/benchmarks.md.
"""
EXAMPLES = """
  onnx-lambda latency                                           # models/digits-cnn.onnx
  onnx-lambda latency models/my-model.onnx --batch-sizes 1,16,256
  onnx-lambda latency models/my-model.onnx --threads 2 --repeats 500 --json
"""


def batch_sizes(text: str) -> list[int]:
    """An argparse type: batch sizes like 1,8,64."""
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isascii() and part.isdigit() and int(part) > 0 for part in parts):
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of batch sizes like 1,8,64")
    return [int(part) for part in parts]


def register(commands: Commands) -> None:
    """``latency [MODEL] [--batch-sizes --repeats --init-runs --threads --json]``."""
    summary = "measure INIT and warm latency of a model through the handler"
    parser = add_command(commands, "latency", summary, DETAILS, EXAMPLES)
    parser.add_argument("model", nargs="?", metavar="MODEL.onnx", help=MODEL_HELP)
    parser.add_argument("--batch-sizes", type=batch_sizes, default=[1, 8, 64], help="default: 1,8,64")
    parser.add_argument("--repeats", type=positive_int, default=200, help="timed calls per batch size (default: 200)")
    parser.add_argument("--init-runs", type=positive_int, default=5, help="INIT runs, for the median (default: 5)")
    parser.add_argument("--threads", type=positive_int, default=1, help="onnxruntime intra-op threads (default: 1)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Measure and print; raises InputError when the model cannot be served."""
    model = resolve_model(args.model)
    configure(model)
    os.environ["ORT_INTRA_OP_THREADS"] = str(args.threads)
    from onnx_lambda import latency_measure  # noqa: PLC0415 - imports the handler, after configure

    with init_errors(), function_output(False):
        init = latency_measure.measure_init(args.init_runs)
    handler = load_entrypoint(model, show_logs=False)
    with function_output(False):  # its log and EMF lines go nowhere, as cheaply as make bench's
        warm = [latency_measure.measure_warm(handler, size, args.repeats) for size in args.batch_sizes]
    figures = {"model": describe(model), "threads": args.threads, "init": init, "warm": warm}
    print(json.dumps(figures, indent=2) if args.json else render(figures, args.repeats))
    return EXIT_OK


def describe(path: Path) -> dict[str, Any]:
    """The served (default) model's name and version, and the file's or folder's path and size: INIT loads all
    of a folder's models, the warm rows measure the default one."""
    from handler.entrypoint import RUNTIME  # noqa: PLC0415 - loaded by now

    info = RUNTIME.plane.model.info if RUNTIME.plane.model else None
    return {
        "name": info.name if info else path.stem,
        "version": info.version if info else "?",
        "path": str(path),
        "size_bytes": sum(f.stat().st_size for f in path.rglob("*.onnx")) if path.is_dir() else path.stat().st_size,
    }


def duration(ms: float) -> str:
    """0.35 -> '350 µs', 12.345 -> '12.35 ms'."""
    return f"{ms * 1000:,.0f} µs" if ms < 1 else f"{ms:,.2f} ms"


def render(figures: dict[str, Any], repeats: int) -> str:
    """The figures as a table for a terminal."""
    model, init = figures["model"], figures["init"]
    threads = f"{figures['threads']} onnxruntime thread{'s' if figures['threads'] > 1 else ''}"
    lines = [
        f"model   {model['name']} version {model['version']} ({model['path']}, {human_bytes(model['size_bytes'])}), "
        f"{threads}",
        f"INIT    session {duration(init['session_ms'])} + warm-up {duration(init['warmup_ms'])} = "
        f"{duration(init['total_ms'])} (handler.model.load_model, median of {init['runs']})",
        f"warm    POST /v2/models/{model['name']}/infer (JSON) through handler.entrypoint.lambda_handler, "
        f"{repeats} calls per batch size",
        "",
        f"{'batch':>7}  {'p50':>10}  {'p95':>10}  {'session.run p50':>15}  {'web layer p50':>13}",
    ]
    for row in figures["warm"]:
        if row.get("error"):
            lines.append(f"{row['batch']:>7}  {row['error']}")
            continue
        lines.append(
            f"{row['batch']:>7}  {duration(row['p50_ms']):>10}  {duration(row['p95_ms']):>10}  "
            f"{duration(row['raw_p50_ms']):>15}  {duration(row['p50_ms'] - row['raw_p50_ms']):>13}"
        )
    lines += ["", "For the side-by-side report (vs the PyTorch peer and bare onnxruntime): make bench in a clone."]
    return "\n".join(lines)
