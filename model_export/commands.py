"""What each subcommand does, from parsed arguments to a written or described model."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from model_export import loading
from model_export.artifact import ExportReport
from model_export.digits import build_default_models
from model_export.errors import ShapeMismatchError
from model_export.inspect_model import inspect_model, render_text
from model_export.parity import Tolerance
from model_export.sklearn_export import export_sklearn
from model_export.torch_export import export_torch


def _tolerance(args: argparse.Namespace) -> Tolerance:
    return Tolerance(atol=args.atol, rtol=args.rtol, min_class_agreement=args.min_agreement)


def sklearn(args: argparse.Namespace) -> ExportReport:
    """`sklearn MODEL_FILE -o OUT`."""
    model = loading.load_sklearn(args.model_file)
    return export_sklearn(
        model,
        args.output,
        n_features=args.n_features,
        sample=loading.load_sample(args.sample) if args.sample else None,
        class_labels=loading.parse_labels(args.labels, args.labels_file),
        model_name=args.name,
        model_version=args.version,
        description=args.description,
        tolerance=_tolerance(args),
    )


def _input_shape(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return tuple(int(part) for part in text.replace("x", ",").split(",") if part.strip())
    except ValueError:
        raise ShapeMismatchError(f"--input-shape {text!r}: expected integers such as 1,3,32,32") from None


def torch(args: argparse.Namespace) -> ExportReport:
    """`torch (--module M:C --state-dict F | --torchscript F | --exported F) -o OUT`."""
    if args.module:
        if args.state_dict is None:
            raise ShapeMismatchError("--module needs --state-dict with the trained weights")
        module = loading.load_torch_class(args.module, args.state_dict, loading.parse_kwargs(args.init_kwargs))
    elif args.torchscript:
        module = loading.load_torchscript(args.torchscript)
    else:
        module = loading.load_exported_program(args.exported)
    return export_torch(
        module,
        args.output,
        example_input=loading.load_sample(args.sample) if args.sample else None,
        input_shape=_input_shape(args.input_shape),
        task=args.task,
        outputs_kind=args.outputs,
        class_labels=loading.parse_labels(args.labels, args.labels_file),
        model_name=args.name,
        model_version=args.version,
        description=args.description,
        tolerance=_tolerance(args),
        opset=args.opset,
    )


def inspect(path: Path, *, as_json: bool) -> int:
    """`inspect MODEL [--json]`."""
    description = inspect_model(path)
    print(json.dumps(asdict(description), indent=2) if as_json else render_text(description))
    return 0


def digits(out_dir: Path, seed: int) -> int:
    """`digits --out-dir DIR`: both default models, with a summary table."""
    results = build_default_models(out_dir, seed)
    print(f"\n{'model':<16}{'accuracy':>9}{'parity max |diff|':>19}{'agreement':>11}{'size':>10}  path")
    for report, accuracy in results:
        agreement = report.parity.class_agreement
        print(
            f"{report.model_name:<16}{accuracy:>9.4f}{report.parity.max_abs_diff:>19.2e}"
            f"{agreement if agreement is not None else float('nan'):>11.4f}{report.size_bytes:>10,}  {report.path}"
        )
    print("the demo and `make serve` serve digits-cnn.onnx")
    return 0
