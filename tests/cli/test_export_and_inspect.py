"""GIVEN onnx-lambda export and inspect WHEN run as a user runs them THEN export is model_export's own
command line under this name (its arguments, checks, exit codes), says in one line how to get the export
extra when it is missing, and inspect describes a model with or without the onnx package."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from tests.testkit.cli import one_error_line, run_cli
from tests.testkit.process import block_imports, run_python

EXTRA_LINE = "onnx-lambda export needs the export extra: pip install 'onnx-lambda[export]'"
CLI_MAIN = "from onnx_lambda.cli import main\nraise SystemExit(main(sys.argv[1:]))\n"
WITHOUT_EXPORT_EXTRA = block_imports({"torch", "sklearn", "skl2onnx", "onnx", "joblib"}) + CLI_MAIN


@pytest.fixture
def fitted(tmp_path: Path) -> Path:
    """A small scikit-learn classifier saved with joblib."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    path = tmp_path / "model.joblib"
    joblib.dump(LogisticRegression().fit(x, y), path)
    return path


@pytest.mark.slow
def test_export_runs_model_export_and_its_file_is_inspected(fitted: Path, tmp_path: Path) -> None:
    out = tmp_path / "my-model.onnx"
    result = run_cli("export", "sklearn", str(fitted), "-o", str(out), "--labels", "no,yes", "--version", "3")
    assert result.returncode == 0, result.stderr
    assert "parity" in result.stdout.lower()
    described = json.loads(run_cli("inspect", str(out), "--json").stdout)
    assert described["metadata"]["model_name"] == "my-model"
    assert described["metadata"]["model_version"] == "3"
    assert described["metadata"]["class_labels"] == ["no", "yes"]
    assert described["content_sha256"] == "matches"
    assert described["needs_onnx"] == []


def test_export_help_is_model_exports_parser_renamed_and_says_how_to_get_the_extra() -> None:
    result = run_cli("export", "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: onnx-lambda export [-h] {sklearn,torch,digits}")  # inspect: its own
    assert "pip install 'onnx-lambda[export]'" in result.stdout
    sklearn_help = run_cli("export", "sklearn", "--help").stdout
    assert sklearn_help.startswith("usage: onnx-lambda export sklearn")
    assert "--n-features" in sklearn_help


def test_export_usage_errors_and_input_errors_keep_model_exports_exit_codes(tmp_path: Path) -> None:
    usage = run_cli("export", "torch", "--module", "pkg.mod:Net", "-o", "o.onnx", "--input-shape", "1,4")
    assert usage.returncode == 2
    assert one_error_line(usage) == (
        "onnx-lambda export: error: --module and --state-dict go together (see onnx-lambda export --help)"
    )
    (tmp_path / "notes.joblib").write_text("not a model")
    bad = run_cli("export", "sklearn", str(tmp_path / "notes.joblib"), "-o", str(tmp_path / "o.onnx"))
    assert bad.returncode == 3
    assert one_error_line(bad).startswith("error: ")
    assert not (tmp_path / "o.onnx").exists()


@pytest.mark.parametrize("command", ["sklearn", "torch", "digits"])
def test_without_the_export_extra_an_export_is_one_line_with_the_pip_command(command: str) -> None:
    result = run_python(WITHOUT_EXPORT_EXTRA, "export", command, "anything", "-o", "x.onnx")
    assert result.returncode == 3
    assert one_error_line(result).startswith(f"error: {EXTRA_LINE} (not installed: ")


def test_without_the_export_extra_export_help_still_works() -> None:
    result = run_python(WITHOUT_EXPORT_EXTRA, "export", "--help")
    assert result.returncode == 0, result.stderr
    assert "pip install 'onnx-lambda[export]'" in result.stdout


def test_inspect_describes_the_default_model(default_model: Path) -> None:
    result = run_cli("inspect", str(default_model))
    assert result.returncode == 0, result.stderr
    assert "input  tensor(float)   FP32   [batch, 1, 8, 8]" in result.stdout
    assert "model_name                digits-cnn" in result.stdout
    assert "content_sha256 check: matches" in result.stdout


def test_inspect_without_onnx_reads_what_onnxruntime_gives_and_names_what_is_missing(default_model: Path) -> None:
    text = run_python(WITHOUT_EXPORT_EXTRA, "inspect", str(default_model))
    assert text.returncode == 0, text.stderr
    assert "producer  onnx-lambda\n" in text.stdout
    assert "graph     main_graph (IR version and opsets need the onnx package)" in text.stdout
    assert "probabilities  tensor(float)   FP32   [batch, 10]" in text.stdout
    assert "class_labels" in text.stdout
    assert "content_sha256 check: not verified: the onnx package is not installed" in text.stdout
    assert text.stdout.rstrip().endswith(
        "not shown without the onnx package (pip install onnx, or the export extra): "
        "producer version, IR version, opsets, content_sha256 check"
    )
    described = json.loads(run_python(WITHOUT_EXPORT_EXTRA, "inspect", str(default_model), "--json").stdout)
    assert described["needs_onnx"] == ["producer_version", "ir_version", "opsets", "content_sha256"]
    assert described["metadata"]["model_name"] == "digits-cnn"
    assert described["inputs"][0] == {
        "name": "input",
        "onnx_type": "tensor(float)",
        "datatype": "FP32",
        "shape": ["batch", 1, 8, 8],
    }


def test_inspect_of_a_file_that_is_not_a_model_is_one_line_exit_3(tmp_path: Path) -> None:
    (tmp_path / "notes.onnx").write_text("not a model")
    result = run_cli("inspect", str(tmp_path / "notes.onnx"))
    assert result.returncode == 3
    assert one_error_line(result).startswith("error: ")
    assert "notes.onnx is not an ONNX model onnxruntime can open" in result.stderr
    missing = run_cli("inspect", str(tmp_path / "absent.onnx"))
    assert (missing.returncode, one_error_line(missing)) == (
        3,
        f"error: {tmp_path / 'absent.onnx'} is not a file: expected an ONNX model",
    )


def test_the_cli_imports_no_export_package_for_help_inspect_or_the_export_hint(default_model: Path) -> None:
    probe = textwrap.dedent(
        f"""
        import contextlib, io, json, sys
        from onnx_lambda.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            for args in (["inspect", {str(default_model)!r}], ["export", "--help"]):
                try:
                    main(args)
                except SystemExit:
                    pass
        print(json.dumps(sorted(name for name in ("torch", "sklearn", "skl2onnx", "onnx") if name in sys.modules)))
        """
    )
    result = run_python(probe)
    assert result.returncode == 0, result.stderr
    heavy = json.loads(result.stdout.strip().splitlines()[-1])
    assert heavy in ([], ["onnx"])  # inspect uses onnx when installed, for the extra fields; never the others
