"""``onnx-lambda export``: model_export's own command line under this name, with its parser, checks and codes.

The arguments are model_export's (``python -m model_export --help``), parsed by its own parser built under
this command's name; before anything of the extra is imported, this module says in one line how to install
what an export needs when the export extra is missing.
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Sequence

from onnx_lambda.errors import InputError
from onnx_lambda.parsing import Commands, OneLineParser

PROG = "onnx-lambda export"
INSTALL_HINT = "pip install 'onnx-lambda[export]'"
# What each model_export subcommand imports (import name -> the name people know); inspect needs none of it.
NEEDS: dict[str, dict[str, str]] = {
    "sklearn": {"sklearn": "scikit-learn", "skl2onnx": "skl2onnx", "onnx": "onnx"},
    "torch": {"torch": "torch", "onnx": "onnx"},
    "digits": {"sklearn": "scikit-learn", "skl2onnx": "skl2onnx", "torch": "torch", "onnx": "onnx"},
}
EXTRA_LINE = f"needs the export extra (torch, onnx, scikit-learn, skl2onnx): {INSTALL_HINT}"
SUMMARY = "export a scikit-learn or PyTorch model to parity-checked, self-describing ONNX (needs the export extra)"


def register(commands: Commands) -> None:
    """``export``: everything after it goes to model_export's parser, --help included."""
    parser = commands.add_parser("export", help=SUMMARY, add_help=False, allow_abbrev=False)
    parser.set_defaults(run=run)


def missing_packages(argv: Sequence[str]) -> list[str]:
    """The export packages the requested subcommand needs that are not installed (none for --help or inspect)."""
    if any(arg in ("-h", "--help") for arg in argv):
        return []
    command = next((arg for arg in argv if not arg.startswith("-")), "")
    return [human for name, human in NEEDS.get(command, {}).items() if not installed(name)]


def installed(name: str) -> bool:
    """Whether a top-level package can be imported, without importing it (torch alone takes a second)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a finder that refuses it, or a broken package
        return False


def run(args: argparse.Namespace) -> int:
    """Run model_export's main on the remaining arguments; its exit code is ours. Raises InputError when the
    export extra is missing, before importing anything of it."""
    missing = missing_packages(args.rest)
    if missing:
        raise InputError(f"{PROG} needs the export extra: {INSTALL_HINT} (not installed: {', '.join(missing)})")
    from model_export import cli  # noqa: PLC0415 - only when exporting

    return cli.main(list(args.rest), cli.build_parser(PROG, OneLineParser, f"{PROG} {EXTRA_LINE}"))
