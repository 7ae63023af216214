"""What each ``python -m model_export`` subcommand does, from parsed arguments to printed output.

Imported by ``model_export.cli`` only when a command runs; the heavy packages are imported further
down, by the exporters and loaders that need them.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from model_export import loading
from model_export.deps import require
from model_export.digits import build_default_models, render_table
from model_export.errors import ShapeMismatchError
from model_export.generator_export import export_generator
from model_export.image_export import image_spec
from model_export.options import DEFAULT_MAX_ACCURACY_DROP, ExportOptions
from model_export.report import ExportReport, optimization_text, quantization_lines, render_report
from model_export.sklearn_export import export_sklearn
from model_export.torch_export import export_torch

if TYPE_CHECKING:
    import torch


def _options(args: argparse.Namespace) -> ExportOptions:
    """The keyword arguments both exporters share, from the common options."""
    return {
        "class_labels": loading.parse_labels(args.labels, Path(args.labels_file) if args.labels_file else None),
        "model_name": args.name,
        "model_version": args.version,
        "description": args.description,
        "atol": args.atol,
        "rtol": args.rtol,
        "min_class_agreement": args.min_agreement,
        "opset": args.opset,
        "optimize": args.optimize,
        "quantize": args.quantize,
        "eval_data": loading.load_eval_data(Path(args.eval_data)) if args.eval_data else None,
        "max_accuracy_drop": _max_accuracy_drop(args),
    }


def _max_accuracy_drop(args: argparse.Namespace) -> float:
    """--max-accuracy-drop, or its default (the option has none of its own, so that cli can tell it was given)."""
    return DEFAULT_MAX_ACCURACY_DROP if args.max_accuracy_drop is None else float(args.max_accuracy_drop)


def export_sklearn_command(args: argparse.Namespace) -> ExportReport:
    """``sklearn MODEL_FILE -o OUT.onnx [...]``: load, export, report; raises ExportError."""
    model = loading.load_sklearn(Path(args.model_file))
    sample = loading.load_sample(Path(args.sample), table=True) if args.sample else None
    return export_sklearn(model, Path(args.output), n_features=args.n_features, sample=sample, **_options(args))


def _torch_module(args: argparse.Namespace) -> torch.nn.Module:
    require("torch")
    from model_export import torch_loading  # noqa: PLC0415 - imports torch, so only for the torch command

    if args.module:
        return torch_loading.load_torch_class(args.module, Path(args.state_dict), args.init_kwargs)
    if args.torchscript:
        return torch_loading.load_torchscript(Path(args.torchscript))
    return torch_loading.load_exported(Path(args.exported))


def export_torch_command(args: argparse.Namespace) -> ExportReport:
    """``torch (--module M:C --state-dict F | --torchscript F | --exported F) -o OUT [...]``; raises ExportError."""
    module = _torch_module(args)
    if args.image:
        return _export_image_command(module, args)
    if args.vocabulary:
        return _export_generator_command(module, args)
    sample = loading.load_sample(Path(args.sample)) if args.sample else None
    named = {name: _example(shape, dtype) for name, shape, dtype in args.input} if args.input else None
    return export_torch(
        module,
        Path(args.output),
        example_input=named,
        input_shape=args.input_shape,
        sample=sample,
        task=args.task,
        outputs_kind=args.outputs,
        **_options(args),
    )


def _export_image_command(module: Any, args: argparse.Namespace) -> ExportReport:
    """``torch ... --image WxH [--mean --std --resize --grayscale --images --preprocess]``."""
    from model_export import torch_loading  # noqa: PLC0415 - imports torch, so only for the torch command

    mode = "L" if args.grayscale else "RGB"
    try:
        spec = image_spec(
            args.image, mode=mode, resize=args.resize, resample=args.resample, mean=args.mean, std=args.std
        )
    except ValueError as exc:
        raise ShapeMismatchError(f"--image: {exc}") from None
    preprocess = torch_loading.import_attribute(args.preprocess, "--preprocess") if args.preprocess else None
    return export_torch(
        module,
        Path(args.output),
        image=spec,
        images=args.images,
        preprocess=preprocess,
        outputs_kind=args.outputs,
        **_options(args),
    )


def _export_generator_command(module: Any, args: argparse.Namespace) -> ExportReport:
    """``torch ... --vocabulary FILE --state-shape L,H [--start-token --end-token --max-length --temperature]``."""
    if args.state_shape is None:
        raise ShapeMismatchError("--vocabulary needs --state-shape LAYERS,HIDDEN: the step's state, batch left out")
    return export_generator(
        module,
        Path(args.output),
        vocabulary=loading.load_vocabulary(Path(args.vocabulary)),
        start_token=args.start_token,
        end_token=args.end_token,
        state_shape=args.state_shape,
        max_length=args.max_length,
        temperature=args.temperature,
        **_options(args),
    )


def _example(shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """A named input's example from the command line: generated floats, zeros for integers and flags."""
    if dtype == "float32":
        return np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    return np.zeros(shape, dtype=dtype)


def digits_command(args: argparse.Namespace) -> None:
    """``digits --out-dir DIR [--seed N] [--optimize] [--quantize int8]``: train, export, print; raises ExportError."""
    results = build_default_models(
        Path(args.out_dir),
        args.seed,
        optimize=args.optimize,
        quantize=args.quantize,
        max_accuracy_drop=_max_accuracy_drop(args),
    )
    print()
    print(render_table(results))
    print(f"held-out test set: {Path(args.out_dir) / 'digits-test.npz'}")
    for result in results:
        report = result.report
        if report.optimization is not None:
            print(f"{report.model_name} --optimize: {optimization_text(report.optimization)}")
        if report.quantized_path is not None and report.quantization is not None:
            print("\n".join(quantization_lines(report.quantized_path, report.quantization)))


def run(args: argparse.Namespace) -> int:
    """Dispatch one parsed command line; returns the exit code (0) or raises ExportError."""
    if args.command == "digits":
        digits_command(args)
    elif args.command == "sklearn":
        print(render_report(export_sklearn_command(args)))
    else:
        print(render_report(export_torch_command(args)))
    return 0
