"""GIVEN the "Export your own model" examples (a scikit-learn pipeline and a PyTorch module; docs/export.md today,
found on whichever page of README.md and docs/ holds them) WHEN a newcomer copies them into an empty folder and runs
them as written THEN each exports a model that the function serves and that answers like the model it came from.

The page marks what to copy with HTML comments GitHub does not show: ``<!-- example-file: NAME -->``
before a block saved as NAME, ``<!-- example-run -->`` before a shell block whose commands are run in
order (a line ending in a backslash continues), in a fresh folder with the project's venv first on PATH.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris

from tests.testkit import docs_pages
from tests.testkit.invoke import caller, runtime_for

MARK = re.compile(r"^<!-- (example-file: (?P<name>\S+)|example-run) -->\n```[a-z]*\n(?P<body>.*?)^```", re.M | re.S)
IRIS_LABELS = ["setosa", "versicolor", "virginica"]


def examples(markdown: str) -> tuple[dict[str, str], list[str]]:
    """The files to write (name -> text) and the commands to run, in page order."""
    files: dict[str, str] = {}
    commands: list[str] = []
    for found in MARK.finditer(markdown):
        if found["name"]:
            files[found["name"]] = found["body"]
            continue
        joined = found["body"].replace("\\\n", " ")
        commands += [line.strip() for line in joined.splitlines() if line.strip() and not line.startswith("#")]
    return files, commands


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty folder with the pages' example files in it, after running their example commands there."""
    files: dict[str, str] = {}
    commands: list[str] = []
    for page in docs_pages.pages():
        found_files, found_commands = examples(page.read_text())
        files.update(found_files)
        commands += found_commands
    assert set(files) >= {"train_iris.py", "tabular_net.py"}, sorted(files)
    assert any(command.startswith("onnx-lambda export torch") for command in commands), commands
    where = tmp_path_factory.mktemp("newcomer")
    for name, text in files.items():
        (where / name).write_text(text)
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"], "PYTHONPATH": ""}
    for command in commands:
        done = subprocess.run(
            ["bash", "-c", command], cwd=where, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, f"documented command failed: {command}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    return where


def test_the_scikit_learn_example_serves_iris_with_its_labels(folder: Path) -> None:
    x, y = load_iris(return_X_y=True)
    call = caller(runtime_for(folder / "models" / "iris.onnx").http)
    status, body = call("POST", "/predict", {"instances": x.tolist()})
    assert status == 200, body
    labels = [prediction["label"] for prediction in body["predictions"]]
    assert set(labels) <= set(IRIS_LABELS)
    assert np.mean([label == IRIS_LABELS[truth] for label, truth in zip(labels, y, strict=True)]) > 0.9
    assert body["model_name"] == "iris"


def test_the_pytorch_example_serves_probabilities_that_sum_to_one(folder: Path) -> None:
    call = caller(runtime_for(folder / "models" / "tabular-net.onnx").http)
    status, body = call("POST", "/predict", {"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]})
    assert status == 200, body
    for prediction in body["predictions"]:
        assert prediction["label"] in IRIS_LABELS
        assert sum(prediction["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)


def test_the_extractor_finds_marked_blocks_only() -> None:
    readme = (
        "<!-- example-file: a.py -->\n```python\nprint(1)\n```\n```sh\nnot marked\n```\n"
        "<!-- example-run -->\n```sh\n# a comment\necho one \\\n  two\npython a.py\n```\n"
    )
    assert examples(readme) == ({"a.py": "print(1)\n"}, ["echo one    two", "python a.py"])
