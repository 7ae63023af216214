"""Fixtures for the export tests: tiny trained models, a CLI runner, and readers for written files.

Helpers are handed out as fixtures (tests never ``import conftest``: tests/ has more than one). Models
here train in milliseconds; only test_export_digits.py and the session fixture ``tuned_digits`` (shared
by the --quantize and --optimize tests) train the real default models.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from sklearn.datasets import make_classification

from tests.testkit.process import block_imports, run_python

REPO = Path(__file__).resolve().parents[2]

RUN_CLI = "import sys\nfrom onnx_lambda.cli import main\nsys.exit(main(sys.argv[1:]))\n"

# A small PyTorch classifier as a user would keep it: a module file beside their weights.
NET_SOURCE = textwrap.dedent(
    """
    import torch


    class Net(torch.nn.Module):
        def __init__(self, features: int = 4, classes: int = 3) -> None:
            super().__init__()
            self.hidden = torch.nn.Linear(features, 8)
            self.head = torch.nn.Linear(8, classes)

        def forward(self, x):
            return self.head(torch.relu(self.hidden(x)))
    """
)


def _run_cli(
    *args: str, cwd: Path = REPO, blocked: frozenset[str] = frozenset(), command: str = "export"
) -> subprocess.CompletedProcess[str]:
    """``onnx-lambda COMMAND ARGS`` (export unless told) in a fresh interpreter, optionally with some packages
    unimportable."""
    prelude = block_imports(blocked) if blocked else ""
    return run_python(prelude + RUN_CLI, command, *args, env={"PYTHONWARNINGS": "ignore"}, cwd=cwd, timeout=180)


def _session(path: Path) -> Any:
    """An onnxruntime session on a written file, as the handler opens it."""
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _metadata(path: Path) -> dict[str, str]:
    """The file's metadata_props, read by onnxruntime (the handler's view)."""
    return dict(_session(path).get_modelmeta().custom_metadata_map)


def _run_onnx(path: Path, batch: np.ndarray) -> dict[str, np.ndarray]:
    """Every output of the written file for ``batch``, by name."""
    model = _session(path)
    names = [output.name for output in model.get_outputs()]
    return dict(zip(names, model.run(None, {"input": batch.astype(np.float32)}), strict=True))


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs ``onnx-lambda export ARGS`` in a fresh interpreter: cli(*args, cwd=..., blocked={...}, command=...)."""
    return _run_cli


@pytest.fixture
def read_metadata() -> Callable[[Path], dict[str, str]]:
    """Reads a file's metadata_props through onnxruntime."""
    return _metadata


@pytest.fixture
def run_onnx() -> Callable[[Path, np.ndarray], dict[str, np.ndarray]]:
    """Runs a written file on a batch: run_onnx(path, batch) -> {output name: array}."""
    return _run_onnx


@pytest.fixture(scope="session")
def tuned_digits(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One run of ``digits --quantize int8 --optimize`` (about 7 s) for every test that reads its output."""
    out_dir = tmp_path_factory.mktemp("tuned-digits")
    result = _run_cli("digits", "--out-dir", str(out_dir), "--quantize", "int8", "--optimize")
    assert result.returncode == 0, result.stderr
    return result, out_dir


@pytest.fixture
def classification_data() -> tuple[np.ndarray, np.ndarray]:
    """300 rows, 6 features, 3 classes named by strings."""
    x, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0)
    return x.astype(np.float32), np.array(["ant", "bee", "cat"])[y]


@pytest.fixture
def net_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], ModuleType]]:
    """Writes NET_SOURCE as module ``name`` in tmp_path, makes tmp_path the working directory, imports it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(tmp_path)  # restores sys.path afterwards, including the loader's additions
    written: list[str] = []

    def write(name: str) -> ModuleType:
        written.append(name)
        (tmp_path / f"{name}.py").write_text(NET_SOURCE)
        return importlib.import_module(name)

    yield write
    for name in written:
        sys.modules.pop(name, None)
