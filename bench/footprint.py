"""Install size: exactly what the Lambda image installs, against what the PyTorch peer needs.

This project's set comes from the Dockerfile's own pip line run for each architecture (the deploy
tests use the same function). The peer's is the dependency closure of torch (the CPU build), fastapi,
mangum and numpy as installed in the project venv, summed from each distribution's file list.
"""

from __future__ import annotations

import re
import tempfile
from importlib import metadata
from pathlib import Path

from tests.testkit.image import install_like_the_image, size_mb

PEER_ROOTS = ("torch", "fastapi", "mangum", "numpy")


def runtime_set_mb(arch: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        result = install_like_the_image(arch, Path(tmp))
        if result.returncode != 0:
            raise RuntimeError(result.stderr[-2000:])
        return size_mb(Path(tmp))


def _requirements(name: str) -> list[str]:
    """Names of what ``name`` requires unconditionally (extras and other platforms' markers left out)."""
    names = []
    for requirement in metadata.requires(name) or []:
        if "extra ==" in requirement or 'sys_platform == "win32"' in requirement:
            continue
        names.append(re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0])
    return names


def closure(roots: tuple[str, ...]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        try:
            todo.extend(_requirements(name))
        except metadata.PackageNotFoundError:
            continue
        seen.add(key)
    return seen


def installed_mb(names: set[str]) -> float:
    total = 0
    for name in names:
        for file in metadata.distribution(name).files or []:
            path = Path(file.locate())
            if path.is_file():
                total += path.stat().st_size
    return total / 1e6


def peer_mb() -> tuple[float, int]:
    """(MB, number of distributions) of the peer's install."""
    names = closure(PEER_ROOTS)
    return installed_mb(names), len(names)
