"""The files in events/: what `sam local invoke -e` takes and what the functional tests feed the handler."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from testkit.paths import EVENTS


def event_files() -> list[Path]:
    """Every event file, sorted, so a new file is picked up by the tests that walk them all."""
    return sorted(EVENTS.glob("*.json"))


def load_event(name: str) -> dict[str, Any]:
    """One event by file name (with or without .json)."""
    path = EVENTS / (name if name.endswith(".json") else f"{name}.json")
    event: dict[str, Any] = json.loads(path.read_text())
    return event


def request_body(event: dict[str, Any]) -> Any:
    """The JSON body an HTTP event carries (decoded from base64 where flagged), or None."""
    body = event.get("body")
    if not body:
        return None
    text = base64.b64decode(body).decode() if event.get("isBase64Encoded") else body
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def response_json(response: dict[str, Any]) -> Any:
    """The JSON body of a Lambda HTTP response."""
    body = response.get("body", "")
    text = base64.b64decode(body).decode() if response.get("isBase64Encoded") else body
    return json.loads(text)
