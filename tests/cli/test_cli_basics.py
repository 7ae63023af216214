"""GIVEN the onnx-lambda console script WHEN asked for help, its version, or given a bad command line or
an unexpected failure THEN help is complete with examples, the version is the package's, and every error
is one line on stderr with the documented exit code."""

from __future__ import annotations

import re

import pytest

import model_export.errors
import onnx_lambda.inspecting
from handler import __version__
from onnx_lambda import errors
from onnx_lambda.cli import main
from tests.testkit.cli import one_error_line, run_cli
from tests.testkit.process import run_python

COMMANDS = ["export", "inspect", "serve", "invoke", "score", "evaluate", "latency", "demo"]


def test_top_level_help_lists_every_command_with_examples_and_the_exit_codes() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert re.search(rf"^    {command} +\S", result.stdout, re.M), command
        assert f"onnx-lambda {command} " in result.stdout.split("examples:")[1]  # each has an example
    codes = result.stdout.split("exit codes:")[1]
    for code in (0, 1, 2, 3, 4, 5, 6, 7, 130):
        assert re.search(rf"^  {code} +\S", codes, re.M), code


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "export"])
def test_every_command_help_has_a_description_and_examples(command: str) -> None:
    result = run_cli(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: onnx-lambda {command}")
    examples = result.stdout.split("examples:\n")[1]
    assert f"  onnx-lambda {command}" in examples
    assert "exit codes: see onnx-lambda --help" in result.stdout


def test_importing_the_command_line_reads_no_setting_so_each_command_configures_the_function_first() -> None:
    # handler.settings caches the environment the first time a handler module reads it; a command imported
    # with the CLI that pulled the batch code in would fix MODEL_PATH before `serve MODEL` could set it. The
    # contract (stdlib only: exit codes, the error base) is all of the handler the command line starts with.
    probe = "import sys, onnx_lambda.cli; print(sorted(m for m in sys.modules if m.startswith(('handler.', 'numpy'))))"
    result = run_python(probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['handler.contract']"


def test_version_is_the_handler_packages_version() -> None:
    result = run_cli("--version")
    assert (result.returncode, result.stdout) == (0, f"onnx-lambda {__version__}\n")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["inspect"], "the following arguments are required: MODEL.onnx"),
        (["serve", "--port", "http"], "'http' is not a port"),
        (["latency", "--batch-sizes", "1,x"], "is not a list of batch sizes"),
        (["inspect", "m.onnx", "--frob"], "unrecognized arguments: --frob"),
        (["invoke"], "give an event file or --url"),
        (["invoke", "events/http-api-v2.health.json", "--data", "{}"], "--data can only be used with --url"),
    ],
)
def test_usage_errors_are_one_line_with_exit_code_2(args: list[str], expected: str) -> None:
    result = run_cli(*args)
    assert result.returncode == errors.EXIT_USAGE
    line = one_error_line(result)
    assert expected in line
    assert line.startswith("onnx-lambda")
    assert line.endswith("--help)")


def test_every_error_kind_carries_its_documented_exit_code() -> None:
    assert model_export.errors.ExportError.exit_code == errors.EXIT_INPUT
    assert model_export.errors.ParityError.exit_code == errors.EXIT_PARITY
    assert model_export.errors.AccuracyDropError.exit_code == errors.EXIT_ACCURACY
    assert errors.InputError.exit_code == errors.EXIT_INPUT
    assert errors.RemoteError.exit_code == errors.EXIT_REMOTE
    assert errors.RecordsFailed.exit_code == errors.EXIT_RECORDS_FAILED
    assert len({errors.EXIT_USAGE, errors.EXIT_INPUT, errors.EXIT_REMOTE, errors.EXIT_RECORDS_FAILED}) == 4
    documented = {int(line.split()[0]) for line in errors.EXIT_CODES_HELP.splitlines()[1:] if line[:5].strip()}
    assert documented == {0, 1, 2, 3, 4, 5, 6, 7, 130}


def _explode(_: object) -> int:
    raise RuntimeError("boom\nsecond line")


def test_an_unexpected_failure_is_one_line_pointing_at_debug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(onnx_lambda.inspecting, "run", _explode)
    assert main(["inspect", "any.onnx"]) == errors.EXIT_UNEXPECTED
    captured = capsys.readouterr()
    assert captured.err == "error: unexpected RuntimeError: boom second line (run with --debug for the traceback)\n"


@pytest.mark.parametrize("args", [["--debug", "inspect", "any.onnx"], ["inspect", "any.onnx", "--debug"]])
def test_debug_before_or_after_the_command_prints_the_traceback(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(onnx_lambda.inspecting, "run", _explode)
    assert main(args) == errors.EXIT_UNEXPECTED
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert "RuntimeError: boom" in err


def test_the_old_export_command_points_at_the_one_front_door_in_one_line() -> None:
    result = run_python("import runpy; runpy.run_module('model_export', run_name='__main__')", "digits")
    assert result.returncode == errors.EXIT_USAGE
    assert result.stderr.strip().splitlines() == [
        "python -m model_export: use `onnx-lambda export ...` (the same arguments) or `onnx-lambda inspect`"
    ]
