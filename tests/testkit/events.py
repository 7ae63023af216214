"""The files in events/: what `sam local invoke -e` takes and what the functional tests feed the handler."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

from tests.testkit.binary import HEADER, read_binary
from tests.testkit.paths import EVENTS


def event_files() -> list[Path]:
    """Every event file, sorted, so a new file is picked up by the tests that walk them all."""
    return sorted(EVENTS.glob("*.json"))


def load_event(name: str) -> dict[str, Any]:
    """One event by file name (with or without .json)."""
    path = EVENTS / (name if name.endswith(".json") else f"{name}.json")
    event: dict[str, Any] = json.loads(path.read_text())
    return event


def _header_length(message: dict[str, Any]) -> int | None:
    """Inference-Header-Content-Length of an event or response (binary tensor data extension), if any."""
    headers = {key.lower(): value for key, value in (message.get("headers") or {}).items()}
    return int(headers[HEADER]) if HEADER in headers else None


def request_body(event: dict[str, Any]) -> Any:
    """The JSON body an HTTP event carries (decoded from base64 where flagged), or None. A binary-extension
    body gives its JSON part, each binary input's ``data`` read back from its bytes."""
    body = event.get("body")
    if not body:
        return None
    length = _header_length(event)
    if length is not None:
        raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
        return read_binary(raw, length, "inputs")
    text = base64.b64decode(body).decode() if event.get("isBase64Encoded") else body
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def response_json(response: dict[str, Any]) -> Any:
    """The JSON body of a Lambda HTTP response; of a binary-extension response, its JSON part with each
    binary output's ``data`` read back from its bytes."""
    body = response.get("body", "")
    raw = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
    headers = {str(name).lower(): value for name, value in (response.get("headers") or {}).items()}
    if headers.get("content-encoding") == "gzip":  # as a client that sent Accept-Encoding: gzip reads it
        raw = gzip.decompress(raw)
    return read_binary(raw, _header_length(response))
