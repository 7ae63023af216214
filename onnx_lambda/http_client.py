"""One HTTP request, signed, sent with the standard library, and its answer printed for a person.

urllib, not a client library: the runtime install has none to spare, and one request needs no pool.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

from onnx_lambda.auth import AuthError, signer_for
from onnx_lambda.errors import InputError, RemoteError


@dataclass(frozen=True)
class HttpRequest:
    """What to send."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None


@dataclass(frozen=True)
class HttpResponse:
    """What came back, error statuses included."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        """A header's value ('' when absent), by case-insensitive name."""
        return next((value for key, value in self.headers if key.lower() == name.lower()), "")


def send(request: HttpRequest, auth: str, token: str | None, env: Mapping[str, str], timeout: float) -> HttpResponse:
    """Sign and send; an error status is an answer, not an exception. Raises InputError when the URL or the
    authorisation is unusable, RemoteError when nothing answered."""
    if not request.url.startswith(("http://", "https://")):
        raise InputError(f"--url {request.url!r} is not an http:// or https:// URL")
    try:
        sign = signer_for(auth, request.url, token, env)
    except AuthError as exc:
        raise InputError(str(exc)) from None
    body = request.body or b""
    headers = sign(request.method, request.url, body, dict(request.headers))
    prepared = urllib.request.Request(request.url, data=request.body, headers=headers, method=request.method)
    try:
        with urllib.request.urlopen(prepared, timeout=timeout) as answer:
            return HttpResponse(answer.status, answer.reason, list(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as error:
        return HttpResponse(error.code, str(error.reason), list(error.headers.items()), error.read())
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RemoteError(f"cannot reach {request.url}: {reason}") from None


def print_response(response: HttpResponse, include: bool) -> None:
    """The body on stdout, JSON indented; with ``include``, the status line and headers before it."""
    if include:
        print(f"HTTP {response.status} {response.reason}")
        for name, value in response.headers:
            print(f"{name}: {value}")
        print()
    if "json" in response.header("content-type"):
        try:
            print(json.dumps(json.loads(response.body), indent=2, ensure_ascii=False))
            return
        except ValueError:
            pass  # a body that says JSON but is not: shown as it came
    sys.stdout.flush()
    sys.stdout.buffer.write(response.body)
    if response.body and not response.body.endswith(b"\n") and sys.stdout.isatty():
        sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()
