"""GIVEN the Dockerfile's own pip command and requirements/runtime.lock WHEN they are run here for the base
image's Python on arm64 and x86_64 THEN every wheel exists for both, the set is small and holds no
export-time package, the lock is what pyproject.toml resolves to, and the suite tests those versions."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pytest

from testkit.paths import REPO
from testkit.template import dockerfile_instructions
from testkit.tools import TOOLS_BIN

LOCK = REPO / "requirements" / "runtime.lock"
# manylinux tags the Lambda base image (Amazon Linux 2023, glibc 2.34) accepts, newest first.
GLIBC_MINORS = (34, 28, 27, 26, 24, 17)
FORBIDDEN = {"torch", "skl2onnx", "onnx", "scikit-learn", "joblib", "onnx-lambda"}
# The runtime set must stay small; issue 6 targets 130 MB after trimming what onnxruntime ships unused.
BUDGET_MB = 200


def lock_pins(text: str) -> dict[str, str]:
    """name -> version of every package the lock pins."""
    return {m[1].lower(): m[2] for m in re.finditer(r"^([A-Za-z0-9_.-]+)==([^ \\\n]+)", text, re.MULTILINE)}


def image_pip_command() -> list[str]:
    """The Dockerfile's `pip install` arguments, as the dependencies stage runs them."""
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN" and "pip install" in args]
    assert len(runs) == 1, f"expected one pip install in the Dockerfile, found {runs}"
    return shlex.split(runs[0])


def base_python() -> str:
    """The base image's Python version (the Dockerfile's PYTHON_VERSION argument)."""
    args = [args for keyword, args in dockerfile_instructions() if keyword == "ARG" and "PYTHON_VERSION=" in args]
    return args[0].split("=", 1)[1]


def install_like_the_image(arch: str, target: Path) -> subprocess.CompletedProcess[str]:
    """Run the image's pip command for ``arch`` into ``target`` (wheels for that platform, not this one)."""
    command = image_pip_command()
    assert command[:2] == ["pip", "install"]
    arguments = command[2:]
    arguments[arguments.index("--target") + 1] = str(target)
    arguments[arguments.index("-r") + 1] = str(LOCK)
    platforms = [f"--platform=manylinux_2_{minor}_{arch}" for minor in GLIBC_MINORS]
    interpreter = ["--platform", f"manylinux2014_{arch}", "--python-version", base_python(), "--implementation", "cp"]
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *arguments,
            *platforms,
            *interpreter,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=540,
    )


def size_mb(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 1e6


def distributions(folder: Path) -> set[str]:
    """Normalised names of the distributions installed in ``folder``."""
    names = {re.sub(r"-[^-]+\.dist-info$", "", path.name) for path in folder.glob("*.dist-info")}
    return {re.sub(r"[-_.]+", "-", name).lower() for name in names}


@pytest.fixture(scope="module", params=["aarch64", "x86_64"])
def runtime_set(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    arch: str = request.param
    target = tmp_path_factory.mktemp(f"runtime-{arch}")
    result = install_like_the_image(arch, target)
    assert result.returncode == 0, f"the image's pip install fails for {arch}:\n{result.stderr[-3000:]}"
    return arch, target


def test_every_locked_wheel_exists_for_the_base_images_python_and_the_set_is_small(
    runtime_set: tuple[str, Path], report: Callable[[str], None]
) -> None:
    arch, target = runtime_set
    assert distributions(target) == {re.sub(r"[-_.]+", "-", name) for name in lock_pins(LOCK.read_text())}
    megabytes = size_mb(target)
    report(f"runtime set (what the image installs) for {arch}, Python {base_python()}: {megabytes:.1f} MB")
    assert megabytes < BUDGET_MB


def test_no_export_time_package_is_in_the_runtime_set(runtime_set: tuple[str, Path]) -> None:
    _, target = runtime_set
    installed = distributions(target)
    assert {"onnxruntime", "numpy", "fastapi", "mangum", "aws-lambda-powertools"} <= installed
    assert installed.isdisjoint(FORBIDDEN), installed & FORBIDDEN
    assert not list(target.glob("torch*"))
    assert not list(target.glob("skl2onnx*"))


def test_the_forbidden_check_sees_torch_when_it_is_there(tmp_path: Path) -> None:
    (tmp_path / "torch-2.13.0.dist-info").mkdir()
    (tmp_path / "skl2onnx-1.20.0.dist-info").mkdir()
    assert distributions(tmp_path) & FORBIDDEN == {"torch", "skl2onnx"}


def test_the_lock_is_what_pyproject_resolves_to() -> None:
    """Re-run the command recorded in the lock's header; the pins and hashes must come out the same."""
    header = next(line for line in LOCK.read_text().splitlines() if "uv pip compile" in line)
    command = shlex.split(header.lstrip("# ").strip())
    command[command.index("-o") : command.index("-o") + 2] = ["--no-header", "--quiet"]
    result = subprocess.run(
        [str(TOOLS_BIN / "uv"), *command[1:]], cwd=REPO, capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, result.stderr
    strip = re.compile(r"^\s*#.*$", re.MULTILINE)
    assert strip.sub("", result.stdout).split() == strip.sub("", LOCK.read_text()).split(), "run `make lock`"


def test_every_runtime_dependency_of_pyproject_is_pinned_the_same_in_the_lock() -> None:
    pins = lock_pins(LOCK.read_text())
    requirements = metadata.requires("onnx-lambda") or []
    runtime = [req for req in requirements if "extra ==" not in req]
    assert runtime, "onnx-lambda is not installed in the project venv"
    for requirement in runtime:
        name, version = re.match(r"([A-Za-z0-9_.-]+)(?:\[[^]]*\])?==([^ ;]+)", requirement).groups()  # type: ignore[union-attr]
        assert pins[name.lower()] == version, requirement


def test_the_suite_runs_on_exactly_the_versions_the_image_installs() -> None:
    for name, version in lock_pins(LOCK.read_text()).items():
        assert metadata.version(name) == version, f"{name}: venv has {metadata.version(name)}, image gets {version}"
