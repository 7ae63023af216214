"""GIVEN the project built as a wheel WHEN it is installed into a clean virtual environment with only the
runtime dependencies (at the locked versions) THEN the wheel holds handler/, model_export/ and onnx_lambda/
but no tests or benchmarks, and the onnx-lambda console script works there: help, version, inspect without
the onnx package, and export saying how to get its extra."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from handler import __version__
from tests.testkit.figures import figure_reporter
from tests.testkit.locks import DEV_LOCK
from tests.testkit.paths import DEFAULT_MODEL, REPO

SOURCES = ["pyproject.toml", "README.md", "handler", "model_export", "onnx_lambda", "tests", "bench"]
EXTRA_LINE = "onnx-lambda export needs the export extra: pip install 'onnx-lambda[export]'"


@dataclass(frozen=True)
class Installed:
    """The built wheel, the clean venv it is installed in, and how long each step took."""

    wheel: Path
    venv: Path
    seconds: dict[str, float]

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        """`onnx-lambda ARGS` from the clean venv, in ``cwd`` (not the repository, so nothing is found there)."""
        command = [str(self.venv / "bin" / "onnx-lambda"), *args]
        return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def checked(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"


def copy_sources(target: Path) -> None:
    """What a checkout holds that the build could see, tests and benchmarks included, without caches."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".cache", "*.egg-info")
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, target / name, ignore=ignore)
        else:
            shutil.copy2(REPO / name, target / name)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build from a copy of the sources (a build writes build/ and *.egg-info beside them), then install the
    wheel with the dev lock as constraints (every version pinned, the runtime ones as the image has them, botocore
    too); the registry (or pip's cache) provides the pinned files."""
    root = tmp_path_factory.mktemp("wheel")
    source, dist, venv = root / "source", root / "dist", root / "venv"
    source.mkdir()
    copy_sources(source)
    started = time.perf_counter()
    checked(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(source), "-w", str(dist)]
    )
    built = time.perf_counter()
    checked([sys.executable, "-m", "venv", str(venv)])
    (wheel,) = dist.glob("onnx_lambda-*.whl")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    checked([*pip, str(wheel), "-c", str(DEV_LOCK)])
    seconds = {"build": built - started, "venv and install": time.perf_counter() - built}
    return Installed(wheel, venv, seconds)


def test_the_wheel_holds_the_three_packages_and_no_tests_or_benchmarks(
    installed: Installed, request: pytest.FixtureRequest
) -> None:
    report = figure_reporter(request, "wheel")
    report(", ".join(f"{step} {value:.1f} s" for step, value in installed.seconds.items()))
    names = zipfile.ZipFile(installed.wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"handler", "model_export", "onnx_lambda"}
    for package in tops:
        assert f"{package}/py.typed" in names
    assert "onnx_lambda/cli.py" in names
    assert "handler/batch/store.py" in names
    entry_points = next(name for name in names if name.endswith(".dist-info/entry_points.txt"))
    assert "onnx-lambda = onnx_lambda.cli:main" in zipfile.ZipFile(installed.wheel).read(entry_points).decode()
    assert installed.wheel.name == f"onnx_lambda-{__version__}-py3-none-any.whl"


def test_the_installed_command_shows_help_and_version(installed: Installed, tmp_path: Path) -> None:
    help_text = installed.run("--help", cwd=tmp_path)
    assert help_text.returncode == 0, help_text.stderr
    assert "exit codes:" in help_text.stdout
    version = installed.run("--version", cwd=tmp_path)
    assert (version.returncode, version.stdout) == (0, f"onnx-lambda {__version__}\n")


def test_inspect_works_with_the_runtime_dependencies_alone(installed: Installed, tmp_path: Path) -> None:
    absent = subprocess.run(
        [str(installed.venv / "bin" / "python"), "-c", "import importlib.util as u; "
         "print([n for n in ('onnx', 'torch', 'sklearn', 'skl2onnx') if u.find_spec(n)])"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert absent.stdout.strip() == "[]"  # a clean install: no export extra
    result = installed.run("inspect", str(DEFAULT_MODEL), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "input  tensor(float)   FP32   [batch, 1, 8, 8]" in result.stdout
    assert "model_name                digits-cnn" in result.stdout
    assert "IR version and opsets need the onnx package" in result.stdout


def test_export_says_how_to_get_the_export_extra(installed: Installed, tmp_path: Path) -> None:
    help_text = installed.run("export", "--help", cwd=tmp_path)
    assert help_text.returncode == 0, help_text.stderr
    assert "pip install 'onnx-lambda[export]'" in help_text.stdout
    export = installed.run("export", "sklearn", "model.joblib", "-o", "model.onnx", cwd=tmp_path)
    assert export.returncode == 3
    assert export.stderr.startswith(f"error: {EXTRA_LINE} (not installed: ")
    assert len(export.stderr.splitlines()) == 1


def test_score_reads_local_files_without_the_aws_sdk_and_says_how_to_get_it_for_s3(
    installed: Installed, tmp_path: Path
) -> None:
    """Lambda's base image brings boto3, so the wheel does not: local scoring must not need it."""
    digits = np.load(DEFAULT_MODEL.parent / "digits-test.npz")["X"][:5].reshape(5, -1)
    (tmp_path / "five.jsonl").write_text("".join(json.dumps(row.tolist()) + "\n" for row in digits))
    scored = installed.run("score", "five.jsonl", "--model", str(DEFAULT_MODEL), "--out", "scored", cwd=tmp_path)
    assert scored.returncode == 0, scored.stderr
    assert len((tmp_path / "scored" / "five.jsonl" / "predictions.jsonl").read_text().splitlines()) == 5
    remote = installed.run("score", "s3://bucket/input/", "--model", str(DEFAULT_MODEL), cwd=tmp_path)
    assert (remote.returncode, remote.stderr) == (
        3,
        "error: score needs the AWS SDK here (S3): pip install 'onnx-lambda[aws]' (or boto3)\n",
    )
