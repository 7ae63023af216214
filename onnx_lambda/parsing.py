"""argparse as every subcommand uses it: one-line usage errors, examples in the epilog, --debug anywhere."""

from __future__ import annotations

import argparse
from typing import NoReturn, TypeAlias

from onnx_lambda.errors import EXIT_USAGE, one_line

# What add_subparsers returns; each subcommand's module adds its parser to it.
Commands: TypeAlias = "argparse._SubParsersAction[OneLineParser]"

NEWLINES = "\n"
MODEL_HELP = "the ONNX model (default: $MODEL_PATH, else models/digits-cnn.onnx here, which `make model` writes)"


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr that says where the help is, exit code 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``PROG: error: MESSAGE (see PROG --help)`` and exit 2, instead of the usage block and the error."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def debug_option() -> OneLineParser:
    """--debug for a subcommand's own options; SUPPRESS keeps a --debug given before the subcommand."""
    parent = OneLineParser(add_help=False)
    parent.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="print the traceback of an unexpected error"
    )
    return parent


def add_command(commands: Commands, name: str, summary: str, details: str, examples: str) -> OneLineParser:
    """A subcommand's parser: ``summary`` in the command list, ``details`` and ``examples`` in its --help."""
    parser: OneLineParser = commands.add_parser(
        name,
        help=summary,
        description=f"{summary[0].upper()}{summary[1:]}.\n\n{details.strip()}",
        epilog=f"examples:\n{examples.strip(NEWLINES)}\n\nexit codes: see onnx-lambda --help",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[debug_option()],
    )
    return parser


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1."""
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 1")
    return int(text)


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 for any free one."""
    if not (text.isascii() and text.isdigit()) or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: expected 0-65535 (0 picks a free one)")
    return int(text)


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number > 0")
    return value
