"""Errors a client can cause, each carrying the HTTP status it is answered with.

Everything under ``handler`` raises these for bad input, so the HTTP routes and the batch path give the
same words for the same mistake: what is wrong, where, and what was expected.
"""

from __future__ import annotations


class ApiError(Exception):
    """A request that cannot be served as sent; ``status`` is the HTTP status to answer with."""

    status = 400

    def __init__(self, message: str) -> None:
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
