"""The "Run the image anywhere" commands (docs/deploy.md; found by their mark on whichever page holds them), run as
written with `docker` answered by podman (testkit.container's private store and configuration), from the repository
root: only the host ports are changed, to free ones."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.testkit.container import Podman, build_volumes
from tests.testkit.http_host import free_port
from tests.testkit.paths import REPO
from tests.testkit.readme_examples import example

SECTION = "Run-the-image-anywhere"
HOST_PORT = re.compile(r"(-p |localhost:)(8080|9000)\b")
SHIM = """#!/bin/sh
# `docker` for the documented commands: podman on the tests' store; a build as testkit.container.build does it.
if [ "$1" = build ]; then shift; exec {podman} build --pull=never --format docker {volumes} "$@"; fi
exec {podman} "$@"
"""


@dataclass(frozen=True)
class Ran:
    """One documented command as run, and what it printed."""

    command: str
    stdout: str


def commands() -> list[str]:
    return example(SECTION).commands


def _shim(folder: Path, podman: Podman) -> dict[str, str]:
    """An environment whose `docker` is the shim, written into ``folder``."""
    shim = folder / "docker"
    quoted = " ".join(shlex.quote(word) for word in podman.command())
    volumes = " ".join(shlex.quote(word) for word in build_volumes(folder))
    shim.write_text(SHIM.format(podman=quoted, volumes=volumes))
    shim.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


def _run(command: str, env: dict[str, str], timeout_s: float) -> Ran:
    done = subprocess.run(
        ["bash", "-c", command], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )
    assert done.returncode == 0, f"documented command failed: {command}\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
    return Ran(command, done.stdout)


def run_section(podman: Podman, timeout_s: float = 600) -> list[Ran]:
    """Every command of the section in order, each required to exit 0; its containers removed first and after."""
    ports = {"8080": str(free_port()), "9000": str(free_port())}
    names = [name for command in commands() for name in re.findall(r"--name (\S+)", command)]
    with tempfile.TemporaryDirectory(prefix="onnx-lambda-docker-") as folder:
        env = _shim(Path(folder), podman)
        try:
            podman("rm", "-f", "-t", "0", *names, check=False)
            lines = (HOST_PORT.sub(lambda found: found[1] + ports[found[2]], line) for line in commands())
            return [_run(command, env, timeout_s) for command in lines]
        finally:
            podman("rm", "-f", "-t", "0", *names, check=False)
