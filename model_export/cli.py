"""``onnx-lambda export``'s parser: export scikit-learn and PyTorch models to parity-checked, self-describing ONNX.

Only argparse lives here; each subcommand's work is in ``model_export.commands``; the command line
(``onnx_lambda.exporting``) builds this parser under its own name and turns every error into one line and a
documented exit code (``handler.contract``). The heavy packages
are imported by the exporters and loaders a command uses, so ``--help`` and ``inspect`` need neither
torch nor scikit-learn.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from handler.contract import EXIT_CODES_HELP
from model_export import commands


def _shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a shape: expected integers like 1,3,32,32") from None
    if any(size < 1 for size in shape):
        raise argparse.ArgumentTypeError(f"{text!r} is not a shape: every dimension must be >= 1")
    return shape


NAMED_DTYPES = ("float32", "int64", "int32", "bool")


def _named_input(text: str) -> tuple[str, tuple[int, ...], str]:
    name, _, rest = text.partition(":")
    shape_text, _, dtype = rest.partition(":")
    if not name or not shape_text:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME:SHAPE[:DTYPE], e.g. category:1:int64")
    if (dtype or "float32") not in NAMED_DTYPES:
        raise argparse.ArgumentTypeError(f"{text!r}: dtype {dtype!r} is not one of {', '.join(NAMED_DTYPES)}")
    return name, _shape(shape_text), dtype or "float32"


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"{text!r} is not a JSON object of keyword arguments")
    return value


def _accuracy_drop(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _tuning(parser: argparse.ArgumentParser, eval_data: bool) -> None:
    """--optimize, --quantize and its judges; the digits command brings its own held-out data."""
    parser.add_argument(
        "--optimize",
        action="store_true",
        help="save onnxruntime's basic-level optimised graph (portable across CPUs) if parity still holds",
    )
    parser.add_argument(
        "--quantize", choices=["int8"], help="also write NAME.int8.onnx: dynamic int8, judged on held-out data"
    )
    if eval_data:
        parser.add_argument(
            "--eval-data", metavar="FILE.npz", help="held-out arrays x and y (np.savez) that judge --quantize"
        )
    parser.add_argument(
        "--max-accuracy-drop",
        type=_accuracy_drop,
        metavar="DROP",
        help="refuse the int8 model if accuracy (R² for regressors) drops more than this, absolute (default: 0.01)",
    )


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", required=True, metavar="OUT.onnx", help="the ONNX file to write")
    labels = parser.add_mutually_exclusive_group()
    labels.add_argument("--labels", help="class labels in class order, comma separated: a,b,c")
    labels.add_argument("--labels-file", metavar="FILE", help="class labels in class order, one per line")
    parser.add_argument("--name", help="model name (default: the output file's stem)")
    parser.add_argument("--version", default="1", help="model version (default: %(default)s)")
    parser.add_argument("--description", help="free text stored in the metadata")
    parser.add_argument("--atol", type=float, default=1e-4, help="parity absolute tolerance (default: %(default)s)")
    parser.add_argument("--rtol", type=float, default=1e-3, help="parity relative tolerance (default: %(default)s)")
    parser.add_argument(
        "--min-agreement", type=float, default=0.99, help="least share of agreeing classes (default: %(default)s)"
    )
    parser.add_argument("--opset", type=int, default=18, help="ONNX opset (default: %(default)s)")
    _tuning(parser, eval_data=True)


def _subparser(commands: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def _sklearn_parser(commands: Any) -> None:
    parser = _subparser(commands, "sklearn", "export a fitted scikit-learn estimator or pipeline (joblib or pickle)")
    parser.add_argument("model_file", metavar="MODEL_FILE", help="joblib or pickle file (trusted files only)")
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--n-features", type=int, help="feature count (default: the model's n_features_in_)")
    data.add_argument(
        "--sample",
        metavar="FILE",
        help="parity inputs, .npy or .csv [rows, n_features]; a .csv with a header, for a model fitted on a "
        "DataFrame, is read as that table (pandas types its columns) and the model takes one input per column",
    )
    _common(parser)


def _torch_parser(commands: Any) -> None:
    parser = _subparser(commands, "torch", "export a PyTorch module: class + state_dict, TorchScript or torch.export")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--module", metavar="PKG.MOD:CLASS", help="an nn.Module class, importable from here")
    source.add_argument("--torchscript", metavar="FILE", help="a TorchScript file (torch.jit.save)")
    source.add_argument("--exported", metavar="FILE", help="a torch.export program (.pt2, torch.export.save)")
    parser.add_argument("--state-dict", metavar="FILE", help="weights for --module: torch.save(model.state_dict())")
    parser.add_argument("--init-kwargs", type=_json_object, metavar="JSON", help="keyword arguments for --module")
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument("--input-shape", type=_shape, metavar="1,1,8,8", help="example input shape, batch first")
    data.add_argument(
        "--input",
        type=_named_input,
        action="append",
        metavar="NAME:SHAPE[:DTYPE]",
        help="one of several named inputs, in forward's order (repeat it): e.g. --input numeric:1,8 "
        "--input category:1:int64 (DTYPE float32, int64, int32 or bool; integers are zeros unless the module's "
        "parity needs more: use the Python API's example_input for real values)",
    )
    data.add_argument("--sample", metavar="FILE", help="parity inputs, .npy (any shape) or .csv, batch first")
    data.add_argument(
        "--image",
        metavar="WIDTHxHEIGHT",
        help="an image classifier taking float [batch, channels, HEIGHT, WIDTH]: the graph takes raw pixels and "
        "the server decodes PNG, JPEG and WebP files (see --mean, --std, --resize, --grayscale, --images)",
    )
    data.add_argument(
        "--vocabulary",
        metavar="FILE",
        help="a text generator's step module, (token [batch], state [layers, batch, hidden]) -> (logits, state): its "
        "tokens, a JSON list or one per line (see --state-shape, --start-token, --end-token, --max-length)",
    )
    _image_options(parser)
    _generator_options(parser)
    parser.add_argument("--task", choices=["classification", "regression"], default="classification")
    parser.add_argument(
        "--outputs",
        choices=["logits", "probabilities"],
        default="logits",
        help="what a classifier returns: logits (softmax is added) or probabilities (default: %(default)s)",
    )
    _common(parser)


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected numbers like 0.485,0.456,0.406") from None


def _image_options(parser: argparse.ArgumentParser) -> None:
    images = parser.add_argument_group("image classifiers (with --image)")
    images.add_argument("--mean", type=_floats, metavar="M,M,M", help="per-channel mean of Normalize (after /255)")
    images.add_argument("--std", type=_floats, metavar="S,S,S", help="per-channel std of Normalize (after /255)")
    images.add_argument(
        "--resize",
        choices=["stretch", "crop"],
        default="stretch",
        help="another size is stretched to it (Resize((h, w))), or its shorter side resized, then centre-cropped "
        "(Resize(size) + CenterCrop(size)) (default: %(default)s)",
    )
    images.add_argument(
        "--resample",
        choices=["bilinear", "bicubic", "nearest", "lanczos"],
        default="bilinear",
        help="the resize filter (default: %(default)s, as torchvision's Resize; PIL's Image.resize uses bicubic)",
    )
    images.add_argument("--grayscale", action="store_true", help="the module takes one channel (L), not RGB")
    images.add_argument(
        "--images", action="append", metavar="PATH", help="image files or folders for the parity check (repeatable)"
    )
    images.add_argument(
        "--preprocess",
        metavar="PKG.MOD:FUNCTION",
        help="your preprocessing, a PIL image -> float tensor [C, H, W] (a torchvision transform): parity's reference",
    )


def _generator_options(parser: argparse.ArgumentParser) -> None:
    generator = parser.add_argument_group("text generators (with --vocabulary)")
    generator.add_argument("--state-shape", type=_shape, metavar="LAYERS,HIDDEN", help="the state, batch left out")
    generator.add_argument(
        "--start-token", default="<s>", help="the token a sequence starts with (default: %(default)s)"
    )
    generator.add_argument("--end-token", default="</s>", help="the token that ends one (default: %(default)s)")
    generator.add_argument(
        "--max-length", type=int, default=20, help="longest text, start included (default: %(default)s)"
    )
    generator.add_argument("--temperature", type=float, default=1.0, help="default temperature (default: %(default)s)")


def build_parser(
    prog: str = "onnx-lambda export",
    parser_class: type[argparse.ArgumentParser] = argparse.ArgumentParser,
    note: str = "",
) -> argparse.ArgumentParser:
    """The command line: sklearn, torch, inspect and digits subcommands. ``onnx-lambda export`` builds it under
    its own name and parser class (its one-line usage errors), with ``note`` closing the description."""
    description = "Export scikit-learn and PyTorch models to parity-checked, self-describing ONNX."
    parser = parser_class(
        prog=prog,
        description=f"{description}\n\n{note}" if note else description,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{sklearn,torch,digits}")
    _sklearn_parser(commands)
    _torch_parser(commands)
    digits = _subparser(commands, "digits", "train and export the default digits models (scikit-learn and PyTorch)")
    digits.add_argument("--out-dir", required=True, metavar="DIR", help="where to write the models and test set")
    digits.add_argument("--seed", type=int, default=0, help="split and training seed (default: %(default)s)")
    _tuning(digits, eval_data=False)
    return parser


def main(argv: list[str], parser: argparse.ArgumentParser) -> int:
    """Parse and run one export subcommand; returns 0 or raises ExportError (the command line's to report)."""
    args = parser.parse_args(argv)
    if args.command == "torch" and (args.module is None) != (args.state_dict is None):
        parser.error("--module and --state-dict go together")
    if args.command == "torch" and args.init_kwargs is not None and args.module is None:
        parser.error("--init-kwargs only applies to --module")
    _check_tuning(parser, args)
    return commands.run(args)


def _check_tuning(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """--quantize needs held-out data (digits has its own); its options mean nothing without it."""
    if args.command not in ("sklearn", "torch", "digits"):
        return
    eval_data = getattr(args, "eval_data", None)
    if args.quantize is None and (eval_data is not None or args.max_accuracy_drop is not None):
        parser.error("--eval-data and --max-accuracy-drop only apply with --quantize int8")
    if args.quantize is not None and args.command != "digits" and eval_data is None:
        parser.error(
            "--quantize int8 needs --eval-data FILE.npz: held-out arrays x and y to measure the accuracy change on"
        )
