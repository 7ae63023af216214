"""GIVEN the README's "Serve a scikit-learn pipeline" section WHEN a newcomer copies its file into an empty folder
and runs its commands as written (the server in the background, as the README starts it) THEN the exported
pipeline answers the README's curl exactly as pipeline.predict does on the same rows, and scoring the labelled
CSV reports the accuracy scikit-learn computes, with a confusion matrix that is a real PNG image.

The README marks what to copy with comments GitHub does not show: ``<!-- pipeline-file: NAME -->`` before the
file, ``<!-- pipeline-run -->`` before the commands. Only the port is changed (8080 to a free one).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score

from testkit.aws import free_port
from testkit.paths import REPO

MARK = re.compile(r"^<!-- (pipeline-file: (?P<name>\S+)|pipeline-run) -->\n```[a-z]*\n(?P<body>.*?)^```", re.M | re.S)


def section() -> tuple[dict[str, str], list[str]]:
    files: dict[str, str] = {}
    commands: list[str] = []
    for found in MARK.finditer((REPO / "README.md").read_text()):
        if found["name"]:
            files[found["name"]] = found["body"]
        else:
            commands += [line.strip() for line in found["body"].splitlines() if line.strip()]
    return files, commands


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[Any]]]:
    """The folder after the README's commands ran in it, and what each curl printed."""
    files, commands = section()
    assert list(files) == ["train_customers.py"]
    assert [command.split()[:2] for command in commands] == [
        ["python", "train_customers.py"],
        ["onnx-lambda", "export"],
        ["onnx-lambda", "serve"],
        ["curl", "-s"],
        ["onnx-lambda", "score"],
    ]
    where = tmp_path_factory.mktemp("pipeline-newcomer")
    for name, text in files.items():
        (where / name).write_text(text)
    port = str(free_port())
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"], "PYTHONPATH": ""}
    servers: list[subprocess.Popen[bytes]] = []
    printed: list[Any] = []
    try:
        for command in (line.replace("8080", port) for line in commands):
            if command.endswith("&"):
                servers.append(subprocess.Popen(shlex.split(command[:-1]), cwd=where, env=env))
                _wait_ready(f"http://127.0.0.1:{port}/health")
                continue
            done = subprocess.run(
                ["bash", "-c", command], cwd=where, env=env, capture_output=True, text=True, timeout=300, check=False
            )
            assert done.returncode == 0, f"README command failed: {command}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
            if command.startswith("curl"):
                printed.append(
                    (json.loads(shlex.split(command)[shlex.split(command).index("-d") + 1]), json.loads(done.stdout))
                )
        yield where, printed
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)


def _wait_ready(url: str, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the README's server never became ready at {url}")


def test_the_readme_curl_gets_the_pipelines_own_predictions_with_nulls_and_unseen_cities(
    newcomer: tuple[Path, list[Any]],
) -> None:
    where, printed = newcomer
    [(request, answer)] = printed
    pipeline = joblib.load(where / "customers.joblib")
    rows = pd.DataFrame(request["instances"], columns=["age", "income", "city", "visits"])
    assert [p["label"] for p in answer["predictions"]] == list(pipeline.predict(rows))
    probabilities = pipeline.predict_proba(rows)
    served = [[p["probabilities"][label] for label in pipeline.classes_] for p in answer["predictions"]]
    np.testing.assert_allclose(served, probabilities, atol=1e-5)


def test_scoring_the_labelled_csv_reports_scikit_learns_accuracy_and_a_real_confusion_image(
    newcomer: tuple[Path, list[Any]],
) -> None:
    where, _ = newcomer
    table = pd.read_csv(where / "customers.csv")
    pipeline = joblib.load(where / "customers.joblib")
    report = json.loads((where / "scored" / "metrics.json").read_text())
    expected = accuracy_score(table["churned"], pipeline.predict(table.drop(columns="churned")))
    assert report["records"] == len(table)
    assert report["accuracy"] == pytest.approx(expected, abs=1e-12)
    summary = json.loads((where / "scored" / "customers.csv" / "summary.json").read_text())
    assert summary["records"] == {"in": len(table), "scored": len(table), "failed": 0}
    image = matplotlib.image.imread(where / "scored" / "confusion.png")
    assert image.ndim == 3
    assert image.shape[0] > 100
    assert image.std() > 0.01  # not a blank canvas
    assert "| *macro avg* |" in (where / "scored" / "metrics.md").read_text()
