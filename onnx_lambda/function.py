"""The Lambda function in this process: which model, its environment, and where its own output goes.

``handler.entrypoint`` does INIT at import (settings, session, warm-up, app) from environment variables,
once per process, exactly as in Lambda; so the subcommands that run it set ``MODEL_PATH`` first, and a
process serves one model. What the function prints (Powertools' JSON logs, EMF metric lines) is its
log stream, not the command's answer: it is dropped, or shown on stderr with --logs (as
``sam local invoke`` shows it), so stdout carries only the answer and stderr only the errors.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

from handler.contract import LambdaHandler
from onnx_lambda.errors import InputError

DEFAULT_MODEL = Path("models") / "digits-cnn.onnx"


def resolve_model(given: str | None) -> Path:
    """The model to use: the argument, else $MODEL_PATH, else models/digits-cnn.onnx here; a folder of models
    serves them all, as MODEL_PATH does in Lambda. Raises InputError when it does not exist (the default only
    exists where `make model` ran)."""
    path = Path(given or os.environ.get("MODEL_PATH") or DEFAULT_MODEL)
    if not (path.is_file() or path.is_dir()):
        hint = "" if given else " (give the model as an argument, or set MODEL_PATH)"
        raise InputError(f"{path} does not exist: expected an ONNX model, or a folder of them{hint}")
    return path.resolve()


class Discard(io.TextIOBase):
    """A text stream that drops what is written; never closed, so a logger bound to it never fails."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


@contextmanager
def function_output(show: bool) -> Iterator[None]:
    """While the handler is imported (its Logger binds sys.stdout then) or runs: its output goes to stderr
    when ``show``, else nowhere."""
    with redirect_stdout(sys.stderr if show else Discard()):
        yield


def configure(model: Path) -> None:
    """Point the handler's settings (read from the environment, once) at the model; the user's other
    variables (ORT_INTRA_OP_THREADS, BATCH_CHUNK_RECORDS, LOG_LEVEL, ...) apply as in Lambda."""
    os.environ["MODEL_PATH"] = str(model)


@contextmanager
def init_errors() -> Iterator[None]:
    """A model or setting the function cannot start with is an input error, in the handler's own words."""
    from handler.errors import ModelLoadError  # noqa: PLC0415 - light, but only where the handler runs
    from handler.settings import SettingsError  # noqa: PLC0415

    try:
        yield
    except (ModelLoadError, SettingsError) as exc:
        raise InputError(str(exc)) from None


def load_entrypoint(model: Path, show_logs: bool) -> LambdaHandler:
    """``handler.entrypoint.lambda_handler`` serving ``model``; importing it is INIT. Raises InputError."""
    configure(model)
    with init_errors(), function_output(show_logs):
        from handler.entrypoint import lambda_handler  # noqa: PLC0415 - INIT happens here, on purpose

    handler: LambdaHandler = lambda_handler
    return handler
