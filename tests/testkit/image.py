"""What the Lambda image installs, reproduced here: the Dockerfile's own pip line for a target platform.

The deploy tests check the set (both architectures, no export-time package) and the benchmarks report
its size next to the PyTorch peer's, so both use this one definition.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from tests.testkit.locks import RUNTIME_LOCK
from tests.testkit.paths import REPO
from tests.testkit.template import dockerfile_instructions

PRUNE = REPO / "requirements" / "runtime-prune.txt"
# manylinux tags the Lambda base image (Amazon Linux 2023, glibc 2.34) accepts, newest first.
GLIBC_MINORS = (34, 28, 27, 26, 24, 17)


def image_pip_command() -> list[str]:
    """The Dockerfile's `pip install` arguments, as the dependencies stage runs them (before its prune)."""
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN" and "pip install" in args]
    assert len(runs) == 1, f"expected one pip install in the Dockerfile, found {runs}"
    install, _, after = runs[0].partition("&&")
    assert PRUNE.name in after, "the image must prune the installed set with requirements/runtime-prune.txt"
    return shlex.split(install)


def base_python() -> str:
    """The base image's Python version (the Dockerfile's PYTHON_VERSION argument)."""
    args = [args for keyword, args in dockerfile_instructions() if keyword == "ARG" and "PYTHON_VERSION=" in args]
    return args[0].split("=", 1)[1]


def prune(target: Path) -> None:
    """Remove what the image removes after installing: every glob of requirements/runtime-prune.txt."""
    patterns = [line.strip() for line in PRUNE.read_text().splitlines() if line.strip() and not line.startswith("#")]
    for pattern in patterns:
        for path in target.glob(pattern):
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def install_like_the_image(
    arch: str | None, target: Path, python_version: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the image's pip command into ``target``, then its prune: wheels for ``arch`` (aarch64, x86_64)
    on the base image's Python (or ``python_version``), or, with None, for this machine, to import and run what
    was installed."""
    arguments = image_pip_command()[2:]
    arguments[arguments.index("--target") + 1] = str(target)
    arguments[arguments.index("-r") + 1] = str(RUNTIME_LOCK)
    if arch is not None:
        arguments += [f"--platform=manylinux_2_{minor}_{arch}" for minor in GLIBC_MINORS]
        arguments += [
            "--platform",
            f"manylinux2014_{arch}",
            "--python-version",
            python_version or base_python(),
            "--implementation",
            "cp",
        ]
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    result = subprocess.run([*pip, *arguments], capture_output=True, text=True, check=False, timeout=540)
    if result.returncode == 0:
        prune(target)
    return result


OPTIONAL_PART = re.compile(r'if \[ "\$(\w+)" = false \]; then rm -rf ([^;]+); fi')


def optional_parts() -> dict[str, list[str]]:
    """{build argument: the globs its ``=false`` removes} for each optional part of the image's install line."""
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN" and "pip install" in args]
    return {name: globs.split() for name, globs in OPTIONAL_PART.findall(runs[0])}


def size_mb(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 1e6


def distributions(folder: Path) -> set[str]:
    """Normalised names of the distributions installed in ``folder``."""
    names = {re.sub(r"-[^-]+\.dist-info$", "", path.name) for path in folder.glob("*.dist-info")}
    return {re.sub(r"[-_.]+", "-", name).lower() for name in names}
