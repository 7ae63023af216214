"""The command line's errors, so every failure ends as one line and a documented code.

The codes, their help text and the error base are the contract's (``handler.contract``), which model_export's
errors share, so a code means the same thing whichever subcommand returns it; they are re-exported here for
the subcommands.
"""

from __future__ import annotations

from typing import ClassVar

from handler.contract import (
    EXIT_ACCURACY,
    EXIT_CODES_HELP,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PARITY,
    EXIT_RECORDS_FAILED,
    EXIT_REMOTE,
    EXIT_UNEXPECTED,
    EXIT_USAGE,
    OnnxLambdaError,
    one_line,
)

__all__ = [
    "EXIT_ACCURACY",
    "EXIT_CODES_HELP",
    "EXIT_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PARITY",
    "EXIT_RECORDS_FAILED",
    "EXIT_REMOTE",
    "EXIT_UNEXPECTED",
    "EXIT_USAGE",
    "CliError",
    "InputError",
    "RecordsFailed",
    "RemoteError",
    "is_aws_error",
    "one_line",
]


class CliError(OnnxLambdaError):
    """A failure the command line explains in one line; ``exit_code`` is the process's exit status."""


class InputError(CliError):
    """Something the user gave cannot be used: a missing file, a model that does not load, a bad event."""


class RemoteError(CliError):
    """An endpoint answered with an error status, or it (or S3, or AWS) could not be reached."""

    exit_code: ClassVar[int] = EXIT_REMOTE


class RecordsFailed(CliError):
    """Scoring finished, but not every record was scored; the summary has already been printed."""

    exit_code: ClassVar[int] = EXIT_RECORDS_FAILED


def is_aws_error(exc: BaseException) -> bool:
    """True for botocore's and boto3's exceptions (S3 refused, no credentials, endpoint unreachable), without
    importing them: most subcommands never load the AWS SDK."""
    return type(exc).__module__.split(".")[0] in {"botocore", "boto3", "s3transfer"}
