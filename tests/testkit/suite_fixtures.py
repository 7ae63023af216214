"""Shared fixtures: the default model (built once if missing) and moto in server mode on a loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.testkit.aws import BATCH_SETTINGS, Aws, aws_environment
from tests.testkit.figures import collect_figures, print_figures
from tests.testkit.paths import DEFAULT_MODEL, REPO


def pytest_configure(config: pytest.Config) -> None:
    """The batch function's configuration before collection imports the entry point (which reads its settings
    once, at import, as INIT does): a schedule's "Scheduled Event" names no bucket, so INPUT_BUCKET says which.
    A hook rather than import-time code, so importing this file changes nothing."""
    for name, value in BATCH_SETTINGS.items():
        os.environ.setdefault(name, value)


@pytest.fixture(scope="session")
def shapes_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """The coloured-shapes image classifier (testkit.shapes), trained once and exported with --image 32x32 and
    the user's preprocessing as parity's reference: (its ONNX file, the trained network)."""
    from model_export import export_torch  # noqa: PLC0415 - torch, for the image tests only
    from model_export.image_export import image_spec  # noqa: PLC0415
    from tests.testkit import shapes  # noqa: PLC0415

    net = shapes.trained(400, epochs=4)
    path = tmp_path_factory.mktemp("shapes-model") / "shapes.onnx"
    spec = image_spec("32x32", mean=shapes.MEAN, std=shapes.STD)
    export_torch(net, path, image=spec, class_labels=shapes.CLASSES, preprocess=shapes.preprocess)
    return path, net


@pytest.fixture(scope="session")
def names_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """The character-level name generator (testkit.names), trained once and exported with its vocabulary:
    (its ONNX file, the trained step module)."""
    from model_export.generator_export import export_generator  # noqa: PLC0415 - torch, for these tests only
    from tests.testkit import names  # noqa: PLC0415

    net = names.trained(steps=150)
    path = tmp_path_factory.mktemp("names-model") / "names.onnx"
    export_generator(
        net, path, vocabulary=names.VOCABULARY, start_token=names.START, end_token=names.END,
        state_shape=(1, names.HIDDEN), max_length=12, temperature=0.8,
    )  # fmt: skip
    return path, net


@pytest.fixture(scope="session")
def default_model() -> Path:
    """models/digits-cnn.onnx, exported with `onnx-lambda export digits` when absent (make does it first)."""
    if not DEFAULT_MODEL.is_file():
        subprocess.run(
            [sys.executable, "-m", "onnx_lambda", "export", "digits", "--out-dir", str(DEFAULT_MODEL.parent)],
            cwd=REPO,
            check=True,
        )
    return DEFAULT_MODEL


@pytest.fixture(scope="session")
def moto(default_model: Path) -> Iterator[Aws]:
    """One moto server for the session; the handler's boto3 client (and the CLI's processes) find it through
    AWS_ENDPOINT_URL."""
    with aws_environment() as aws:
        yield aws


@pytest.fixture
def aws(moto: Aws) -> Aws:
    """The provisioned server, emptied so each test starts from a fresh stack's state."""
    moto.empty_buckets()
    return moto


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Gather each test's figures where the summary is printed (with pytest-xdist, the controller)."""
    collect_figures(report)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """The figures the suites measured (testkit.figures), after pytest's own summary."""
    print_figures(terminalreporter)
