"""GIVEN the Dockerfile's own pip command and requirements/runtime.lock WHEN they are run here for the base
image's Python on arm64 and x86_64 THEN every wheel exists for both, the set is small and holds no
export-time package, and the pruned set alone serves a request. (What the lock pins, and why: test_locks.py.)"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.testkit.image import base_python, distributions, install_like_the_image, size_mb
from tests.testkit.locks import RUNTIME_LOCK, read_lock
from tests.testkit.paths import REPO

FORBIDDEN = {"torch", "skl2onnx", "onnx", "scikit-learn", "joblib", "onnx-lambda"}
# The runtime set must stay small; issue 6 targets 130 MB after trimming what onnxruntime ships unused.
BUDGET_MB = 200


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
    assert distributions(target) == {pin.name for pin in read_lock(RUNTIME_LOCK).pins}
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


# What the Lambda base image has in /var/runtime and the lock leaves out (see the Makefile's lock target).
BASE_IMAGE_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
SERVE_FROM_THE_SET = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[4], sys.argv[2]]
from handler.entrypoint import lambda_handler
from handler.lambda_instance import LocalContext
response = lambda_handler(json.load(open(sys.argv[3])), LocalContext())
print("STATUS", response["statusCode"], "FROM", sys.modules["onnxruntime"].__file__.startswith(sys.argv[1]))
"""


def base_image_runtime(folder: Path) -> Path:
    """A stand-in for the base image's /var/runtime: links to this venv's copies of what it provides."""
    folder.mkdir()
    for name in BASE_IMAGE_MODULES:
        spec = importlib.util.find_spec(name)
        assert spec is not None, name
        origin = Path(str(spec.origin))
        source = origin.parent if origin.name == "__init__.py" else origin
        (folder / source.name).symlink_to(source)
    return folder


def test_the_pruned_set_alone_serves_a_request(tmp_path: Path) -> None:
    """This machine's build of the same set, pruned the same way, with site-packages switched off (-S)
    and only what the base image adds beside it."""
    target = tmp_path / "task"
    result = install_like_the_image(None, target)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (target / "onnxruntime" / "transformers").exists()
    event = REPO / "events" / "http-api-v2.predict.json"
    runtime = base_image_runtime(tmp_path / "runtime")
    served = subprocess.run(
        [sys.executable, "-S", "-c", SERVE_FROM_THE_SET, str(target), str(REPO), str(event), str(runtime)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "MODEL_PATH": str(REPO / "models" / "digits-cnn.onnx")},
    )
    assert "STATUS 200 FROM True" in served.stdout, served.stderr[-3000:]


def test_the_forbidden_check_sees_torch_when_it_is_there(tmp_path: Path) -> None:
    (tmp_path / "torch-2.13.0.dist-info").mkdir()
    (tmp_path / "skl2onnx-1.20.0.dist-info").mkdir()
    assert distributions(tmp_path) & FORBIDDEN == {"torch", "skl2onnx"}
