"""Run the entry point in a fresh interpreter, as Lambda's INIT does, and read what it printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.testkit.paths import REPO


def block_imports(packages: set[str] | frozenset[str], reason: str = "is not installed") -> str:
    """A script prelude that makes these top-level packages unimportable, as on a machine without them."""
    return textwrap.dedent(
        f"""
        import sys
        BLOCKED = {sorted(packages)!r}
        class _Blocker:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"No module named {{name!r}} ({reason})")
                return None
        sys.meta_path.insert(0, _Blocker())
        """
    )


# What the Lambda image must do without.
BLOCK_EXPORT_PACKAGES = block_imports(
    {"torch", "sklearn", "skl2onnx", "onnx", "model_export", "joblib"}, "not in the Lambda image"
)

INVOKE_EVENT = textwrap.dedent(
    """
    import json, sys
    from handler.entrypoint import lambda_handler
    from handler.lambda_instance import LocalContext
    event = json.load(open(sys.argv[1]))
    response = lambda_handler(event, LocalContext())
    print("RESPONSE " + json.dumps(response))
    """
)


def run_python(
    script: str, *args: str, env: dict[str, str] | None = None, cwd: Path = REPO, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """python -c SCRIPT ARGS in ``cwd``, with ``env`` added to a copy of this environment."""
    merged = {**os.environ, **(env or {})}
    for name in ("AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_FUNCTION_NAME"):
        if env is None or name not in env:
            merged.pop(name, None)
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        check=False,
        cwd=cwd,
        env=merged,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of ``text`` that is a JSON object (Powertools logs and EMF metrics)."""
    found = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                found.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return found


def response_of(text: str) -> dict[str, Any]:
    """The handler response the INVOKE_EVENT script printed."""
    line = next(line for line in text.splitlines() if line.startswith("RESPONSE "))
    response: dict[str, Any] = json.loads(line.removeprefix("RESPONSE "))
    return response
