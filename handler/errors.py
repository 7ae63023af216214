"""Errors a client can cause: what is wrong with a request or a record, in words, and nothing about HTTP.

Everything under ``handler`` raises these for bad input, so the HTTP routes, the SQS jobs and the batch path
give the same words for the same mistake: what is wrong, where, and what was expected. Which HTTP status each
kind is answered with is the API layer's business (handler.answers.STATUS_OF); a batch file reports the
same error as a failed record. ``ort_reason`` words onnxruntime's own failures for these messages.
"""

from __future__ import annotations

import re

from handler.contract import OnnxLambdaError, one_line

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


class RequestError(OnnxLambdaError):
    """A request that cannot be served as sent; its message bounded (MAX_MESSAGE_CHARS)."""

    def __init__(self, message: str) -> None:
        super().__init__(bounded(message))


class BadRequest(RequestError):
    """Malformed or mismatched input: bad JSON, a wrong tensor name, shape or datatype."""


class NotFound(RequestError):
    """An unknown model, version or route."""


class PayloadTooLarge(RequestError):
    """A body or batch over the configured limits."""


class UnsupportedMedia(RequestError):
    """A body of a kind this model does not take (an image for a model that takes tensors, a format no decoder
    reads)."""


class Unprocessable(RequestError):
    """Well-formed input the model can run but whose result the protocol cannot carry."""


class NotReady(RequestError):
    """The model has not finished loading and warming up."""


class ModelLoadError(RuntimeError):
    """The model file or settings cannot give a working session; INIT must fail with this message."""


# onnxruntime's messages carry a status prefix and the C++ source location and signature that raised.
_ORT_NOISE = re.compile(
    r"^\[ONNXRuntimeError\] : \d+ : \w+ : |/onnxruntime_src/\S+:\d+ [^(]*\((?:[^()]|\([^()]*\))*\) (?:const )?"
)


def ort_reason(exc: Exception) -> str:
    """onnxruntime's message for ``exc`` on one line, without its status prefix and C++ source location."""
    return one_line(_ORT_NOISE.sub(" ", str(exc)))
