"""GIVEN model files on disk WHEN `onnx-lambda export` runs in a fresh interpreter THEN good input is
exported with exit 0, and each kind of bad input gets its exit code and one `error:` line, no traceback."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import joblib
import numpy as np
import pytest
import torch
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

Cli = Callable[..., subprocess.CompletedProcess[str]]
Data = tuple[np.ndarray, np.ndarray]


def _one_error_line(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


@pytest.fixture
def classifier_file(tmp_path: Path, classification_data: Data) -> Path:
    x, y = classification_data
    joblib.dump(LogisticRegression(max_iter=1000).fit(x, y), tmp_path / "clf.joblib")
    return tmp_path / "clf.joblib"


def test_sklearn_command_writes_the_model_with_the_given_labels_name_and_sample(
    tmp_path: Path,
    cli: Cli,
    classifier_file: Path,
    classification_data: Data,
    read_metadata: Callable[[Path], dict[str, str]],
) -> None:
    np.save(tmp_path / "sample.npy", classification_data[0][:40])
    out = tmp_path / "out" / "insects.onnx"
    result = cli(
        "sklearn",
        str(classifier_file),
        "-o",
        str(out),
        "--sample",
        str(tmp_path / "sample.npy"),
        "--labels",
        "A,B,C",
        "--name",
        "insects",
        "--version",
        "3",
    )
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stdout
    meta = read_metadata(out)
    assert (meta["model_name"], meta["model_version"], json.loads(meta["class_labels"])) == (
        "insects",
        "3",
        list("ABC"),
    )
    assert json.loads(meta["parity"])["samples"] == 40 + 1


def test_torch_command_exports_a_module_class_with_its_state_dict_and_init_kwargs(
    tmp_path: Path, cli: Cli, net_module: Callable[[str], ModuleType], read_metadata: Callable[[Path], dict[str, str]]
) -> None:
    nets = net_module("cli_nets")
    torch.save(nets.Net(features=6, classes=2).state_dict(), tmp_path / "weights.pt")
    result = cli(
        "torch",
        "--module",
        "cli_nets:Net",
        "--state-dict",
        "weights.pt",
        "--init-kwargs",
        '{"features": 6, "classes": 2}',
        "--input-shape",
        "1,6",
        "-o",
        "net.onnx",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    meta = read_metadata(tmp_path / "net.onnx")
    assert (meta["source_framework"], json.loads(meta["class_labels"])) == ("pytorch", ["0", "1"])


def test_a_text_file_is_not_a_model_exit_3(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "model.joblib").write_text("just some text\n")
    result = cli("sklearn", str(tmp_path / "model.joblib"), "-o", str(tmp_path / "m.onnx"))
    assert result.returncode == 3
    _one_error_line(result, "model.joblib is not a scikit-learn model saved with joblib.dump or pickle.dump")
    assert not (tmp_path / "m.onnx").exists()


def test_an_estimator_skl2onnx_cannot_convert_exit_3_naming_it(tmp_path: Path, cli: Cli) -> None:
    x = np.random.default_rng(0).uniform(size=(50, 3))
    model = make_pipeline(FunctionTransformer(np.log1p), LinearRegression()).fit(x, x.sum(axis=1))
    joblib.dump(model, tmp_path / "pipe.joblib")
    result = cli("sklearn", str(tmp_path / "pipe.joblib"), "-o", str(tmp_path / "m.onnx"))
    assert result.returncode == 3
    _one_error_line(result, "skl2onnx cannot convert the Pipeline(FunctionTransformer -> LinearRegression)")


def test_a_wrong_feature_count_exit_3(tmp_path: Path, cli: Cli, classifier_file: Path) -> None:
    result = cli("sklearn", str(classifier_file), "-o", str(tmp_path / "m.onnx"), "--n-features", "9")
    assert result.returncode == 3
    _one_error_line(result, "n_features gives 9 features but the LogisticRegression was fitted on 6")


def test_a_wrong_input_shape_exit_3(tmp_path: Path, cli: Cli, net_module: Callable[[str], ModuleType]) -> None:
    nets = net_module("shape_nets")
    torch.save(nets.Net().state_dict(), tmp_path / "weights.pt")
    result = cli(
        "torch",
        "--module",
        "shape_nets:Net",
        "--state-dict",
        "weights.pt",
        "--input-shape",
        "1,7",
        "-o",
        "net.onnx",
        cwd=tmp_path,
    )
    assert result.returncode == 3
    _one_error_line(result, "the Net fails on an input of shape [1, 7]")


def test_a_parity_failure_exit_4_and_nothing_written(tmp_path: Path, cli: Cli) -> None:
    rng = np.random.default_rng(0)
    x = 1e8 + rng.normal(scale=1000, size=(200, 3))  # float32's spacing is 8 up there
    joblib.dump(LinearRegression().fit(x, x @ [1.5, -2.0, 0.5] + rng.normal(size=200)), tmp_path / "big.joblib")
    np.savetxt(tmp_path / "sample.csv", x, delimiter=",", header="a,b,c", comments="")
    result = cli(
        "sklearn",
        str(tmp_path / "big.joblib"),
        "-o",
        str(tmp_path / "big.onnx"),
        "--sample",
        str(tmp_path / "sample.csv"),
    )
    assert result.returncode == 4
    _one_error_line(result, "parity check failed", "nothing was written")
    assert not (tmp_path / "big.onnx").exists()


def test_missing_torch_exit_3_with_the_install_hint(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "net.pt").write_bytes(b"never read")
    result = cli(
        "torch",
        "--torchscript",
        str(tmp_path / "net.pt"),
        "--input-shape",
        "1,4",
        "-o",
        str(tmp_path / "m.onnx"),
        blocked=frozenset({"torch"}),
    )
    assert result.returncode == 3
    _one_error_line(result, "needs the export extra: pip install 'onnx-lambda[export]' (not installed: torch)")


def test_inspect_works_without_torch_or_scikit_learn(tmp_path: Path, cli: Cli, classifier_file: Path) -> None:
    exported = cli("sklearn", str(classifier_file), "-o", str(tmp_path / "m.onnx"))
    assert exported.returncode == 0, exported.stderr
    blocked = frozenset({"torch", "sklearn", "skl2onnx", "joblib"})
    result = cli(str(tmp_path / "m.onnx"), blocked=blocked, command="inspect")
    assert result.returncode == 0, result.stderr
    assert "content_sha256 check: matches" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["torch", "--module", "nets:Net", "--input-shape", "1,4", "-o", "m.onnx"], "go together"),
        (["torch", "--torchscript", "m.pt", "--input-shape", "1,x", "-o", "m.onnx"], "is not a shape"),
        (["sklearn", "m.joblib"], "the following arguments are required: -o/--output"),
    ],
)
def test_usage_errors_exit_2(cli: Cli, args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
