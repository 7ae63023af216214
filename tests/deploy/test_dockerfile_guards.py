"""GIVEN the Dockerfile WHEN its PYTHON_VERSION guard runs as the build runs it (sh, the build argument in the
environment) THEN 3.12 and 3.13, the Amazon Linux 2023 bases, pass, and 3.11 or older stop the build naming why;
and the image never imports the container host's server on the Lambda path."""

from __future__ import annotations

import subprocess

import pytest

from tests.testkit.process import run_python
from tests.testkit.template import dockerfile_instructions


def guard() -> str:
    [command] = [args for keyword, args in dockerfile_instructions() if keyword == "RUN" and "PYTHON_VERSION" in args]
    return command


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_the_amazon_linux_2023_pythons_pass(version: str) -> None:
    done = subprocess.run(
        ["sh", "-c", guard()], env={"PYTHON_VERSION": version}, capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize("version", ["3.11", "3.9", "3.14", ""])
def test_any_other_python_stops_the_build_saying_why(version: str) -> None:
    done = subprocess.run(
        ["sh", "-c", guard()], env={"PYTHON_VERSION": version}, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"PYTHON_VERSION={version} is not supported: expected 3.12 or 3.13")
    assert "glibc 2.26" in done.stderr


def test_the_lambda_path_never_imports_the_container_hosts_server() -> None:
    loaded = "sorted({name.split('.')[0] for name in sys.modules} & {'uvicorn', 'h11', 'click'})"
    script = f"import sys, handler.entrypoint; print({loaded})"
    done = run_python(script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
