"""Errors a client can cause, each carrying the HTTP status it is answered with.

Everything under ``handler`` raises these for bad input, so the HTTP routes and the batch path give the
same words for the same mistake: what is wrong, where, and what was expected.
"""

from __future__ import annotations

# The longest error message a client gets back. Messages quote what the client sent (names, shapes, keys),
# and a request can send megabytes of them: unbounded, an error answer grew past the 6 MB Lambda can return.
MAX_MESSAGE_CHARS = 2000
_HEAD_CHARS, _TAIL_CHARS = 1300, 500


def bounded(message: str) -> str:
    """The message, or its start and end around a note of what was left out: the tail says what was
    expected, so it is kept."""
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    omitted = len(message) - _HEAD_CHARS - _TAIL_CHARS
    return f"{message[:_HEAD_CHARS]} ... ({omitted} characters left out) ... {message[-_TAIL_CHARS:]}"


class ApiError(Exception):
    """A request that cannot be served as sent; ``status`` is the HTTP status to answer with."""

    status = 400

    def __init__(self, message: str) -> None:
        message = bounded(message)
        super().__init__(message)
        self.message = message


class BadRequest(ApiError):
    """Malformed or mismatched input: bad JSON, a wrong tensor name, shape or datatype."""

    status = 400


class NotFound(ApiError):
    """An unknown model, version or route."""

    status = 404


class PayloadTooLarge(ApiError):
    """A body or batch over the configured limits."""

    status = 413


class Unprocessable(ApiError):
    """Well-formed input the model can run but whose result the protocol cannot carry."""

    status = 422


class NotReady(ApiError):
    """The model has not finished loading and warming up."""

    status = 503


class ModelLoadError(RuntimeError):
    """The model file or settings cannot give a working session; INIT must fail with this message."""
