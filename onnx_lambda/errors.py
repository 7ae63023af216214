"""Exit codes and the errors that carry them, so every failure ends as one line and a documented code.

The codes extend model_export's (0, 1, 2, 3 input, 4 parity, 5 int8 refused), so ``onnx-lambda export``
passes its codes through unchanged and a code means the same thing whichever subcommand returns it.
"""

from __future__ import annotations

from typing import ClassVar

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
# model_export's codes, written out rather than imported: importing model_export costs every command ~130 ms
# (its package imports numpy); tests/cli/test_cli_basics.py holds them equal.
EXIT_INPUT = 3
EXIT_PARITY = 4
EXIT_ACCURACY = 5
EXIT_REMOTE = 6
EXIT_RECORDS_FAILED = 7
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """exit codes:
  0    done
  1    unexpected failure (a bug: run with --debug for the traceback, and please report it)
  2    usage error (bad command line)
  3    input error: no such file, not a model (or one that cannot be served), unreadable event or data,
       a missing optional package (the export extra)
  4    export: the parity check failed; nothing was written
  5    export: --quantize int8 refused (accuracy dropped too much); nothing was written
  6    remote error: an answer with an HTTP error status (>= 400), or the URL, S3 or AWS could not be reached
  7    score: finished, but some records failed or some files were rejected (see their errors files)
  130  interrupted (Ctrl-C)
"""


class CliError(Exception):
    """A failure the command line explains in one line; ``exit_code`` is the process's exit status."""

    exit_code: ClassVar[int] = EXIT_INPUT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(CliError):
    """Something the user gave cannot be used: a missing file, a model that does not load, a bad event."""


class RemoteError(CliError):
    """An endpoint answered with an error status, or it (or S3, or AWS) could not be reached."""

    exit_code: ClassVar[int] = EXIT_REMOTE


class RecordsFailed(CliError):
    """Scoring finished, but not every record was scored; the summary has already been printed."""

    exit_code: ClassVar[int] = EXIT_RECORDS_FAILED


def one_line(text: str) -> str:
    """Any message as a single line: a multi-line exception text must not break the one-line contract."""
    return " ".join(text.split())


def is_aws_error(exc: BaseException) -> bool:
    """True for botocore's and boto3's exceptions (S3 refused, no credentials, endpoint unreachable), without
    importing them: most subcommands never load the AWS SDK."""
    return type(exc).__module__.split(".")[0] in {"botocore", "boto3", "s3transfer"}
