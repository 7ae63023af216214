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

from tests.testkit.image import install_like_the_image, optional_parts, size_mb

PEER_ROOTS = ("torch", "fastapi", "mangum", "numpy")


# What each optional part of the image is, in words (the Dockerfile's build arguments that drop them).
PART_NAMES = {
    "IMAGE_INPUTS": "image decoder (Pillow, python-multipart)",
    "HTTP_HOST": "container-host server (uvicorn)",
}


def _part_mb(folder: Path, globs: list[str]) -> float:
    total = 0
    for pattern in globs:
        for path in folder.glob(pattern):
            files = [path] if path.is_file() else [item for item in path.rglob("*") if item.is_file()]
            total += sum(item.stat().st_size for item in files)
    return total / 1e6


def runtime_set_mb(arch: str) -> dict[str, float]:
    """MB the image installs for ``arch``: ``all``, each optional part (by build argument), and ``lambda``, the set
    with every optional part dropped (the build arguments at false)."""
    with tempfile.TemporaryDirectory() as tmp:
        result = install_like_the_image(arch, Path(tmp))
        if result.returncode != 0:
            raise RuntimeError(result.stderr[-2000:])
        sizes = {"all": size_mb(Path(tmp))}
        sizes |= {name: _part_mb(Path(tmp), globs) for name, globs in optional_parts().items()}
    return sizes | {"lambda": sizes["all"] - sum(sizes[name] for name in optional_parts())}


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
