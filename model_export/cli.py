"""`python -m model_export`: export scikit-learn and PyTorch models to checked, self-describing ONNX."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from model_export.artifact import ExportReport
from model_export.errors import ExportError
from model_export.parity import Tolerance

EPILOG = """exit codes:
  0  written (or inspected)
  1  unexpected failure (a bug: please report it)
  2  bad command line
  3  bad input: not a model, unsupported model, a shape that does not fit, a missing dependency
  4  parity check failed: the ONNX model disagrees with the source model; nothing was written
"""


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", type=Path, required=True, help="the .onnx file to write")
    parser.add_argument("--labels", help="class labels, comma separated, in class order")
    parser.add_argument("--labels-file", type=Path, help="class labels, one per line")
    parser.add_argument("--name", help="model name served at /v2/models/{name} (default: the output file's stem)")
    parser.add_argument("--version", default="1", help="model version (default 1)")
    parser.add_argument("--description", help="free text stored in the metadata")
    parser.add_argument("--sample", type=Path, help="inputs for the parity check (.npy, or .csv with optional header)")
    parser.add_argument("--atol", type=float, default=Tolerance.atol, help="absolute tolerance (default %(default)s)")
    parser.add_argument("--rtol", type=float, default=Tolerance.rtol, help="relative tolerance (default %(default)s)")
    parser.add_argument(
        "--min-agreement",
        type=float,
        default=Tolerance.min_class_agreement,
        help="least share of rows whose predicted class must agree (default %(default)s)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The command line, one subcommand per job."""
    parser = argparse.ArgumentParser(
        prog="python -m model_export",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    sklearn = commands.add_parser(
        "sklearn",
        help="export a scikit-learn estimator or pipeline (joblib/pickle file)",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sklearn.add_argument("model_file", type=Path)
    sklearn.add_argument("--n-features", type=int, help="feature count, when the model does not record it")
    _common(sklearn)
    torch = commands.add_parser(
        "torch", help="export a PyTorch module", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = torch.add_mutually_exclusive_group(required=True)
    source.add_argument("--module", help="package.module:ClassName of an nn.Module (with --state-dict)")
    source.add_argument("--torchscript", type=Path, help="a TorchScript file (torch.jit.save)")
    source.add_argument("--exported", type=Path, help="a torch.export program (.pt2, torch.export.save)")
    torch.add_argument("--state-dict", type=Path, help="weights for --module (torch.save(model.state_dict()))")
    torch.add_argument("--init-kwargs", help="JSON object of keyword arguments for the class")
    torch.add_argument("--input-shape", help="example input shape with a batch first, e.g. 1,3,32,32")
    torch.add_argument("--task", choices=["classification", "regression"], default="classification")
    torch.add_argument(
        "--outputs",
        choices=["logits", "probabilities"],
        default="logits",
        help="what a classifier module returns (default logits: softmax is added)",
    )
    torch.add_argument("--opset", type=int, default=17, help="ONNX opset (default %(default)s)")
    _common(torch)
    inspect = commands.add_parser("inspect", help="print the signature and metadata of any ONNX file")
    inspect.add_argument("model_file", type=Path)
    inspect.add_argument("--json", action="store_true", help="machine-readable output")
    digits = commands.add_parser("digits", help="train and export the built-in default models (sklearn digits)")
    digits.add_argument("--out-dir", type=Path, default=Path("models"))
    digits.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors are one line on stderr and an exit code, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # the last line of defence: one line, exit 1
        print(f"error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    from model_export import commands  # noqa: PLC0415 - keeps `--help` free of numpy/onnxruntime imports

    if args.command == "inspect":
        return commands.inspect(args.model_file, as_json=args.json)
    if args.command == "digits":
        return commands.digits(args.out_dir, args.seed)
    report = commands.sklearn(args) if args.command == "sklearn" else commands.torch(args)
    print(summary(report))
    return 0


def summary(report: ExportReport) -> str:
    """One paragraph about a written model."""
    parity = json.dumps(asdict(report.parity))
    return (
        f"wrote {report.path} ({report.size_bytes:,} bytes): {report.model_name} v{report.model_version}, "
        f"{report.task}\nparity: {parity}\nsha256 of graph: {report.content_sha256}"
    )
