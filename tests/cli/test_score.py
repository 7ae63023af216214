"""GIVEN files, directories and S3 prefixes WHEN scored with onnx-lambda score THEN the batch function's
own code scores them (the same outputs, byte for byte, as the Lambda writes for the same object), in the
Lambda's layout under --out, with progress on stderr, a summary on stdout and the documented exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from tests.testkit.aws import INPUT_BUCKET, OUTPUT_BUCKET, Aws
from tests.testkit.cli import one_error_line, run_cli
from tests.testkit.paths import DIGITS_TEST_SET, EVENTS


@pytest.fixture(scope="module")
def digits(default_model: Path) -> np.ndarray:
    """Held-out digits [n, 1, 8, 8] float32."""
    return np.load(DIGITS_TEST_SET)["X"][:50].astype(np.float32)


def expected_labels(model: Path, x: np.ndarray) -> list[str]:
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return [str(label) for label in session.run(["label"], {"input": x})[0]]


def jsonl(x: np.ndarray, bad_line_after: int | None = None) -> bytes:
    lines = [json.dumps({"id": f"img-{i}", "instance": image.astype(int).tolist()}) for i, image in enumerate(x)]
    if bad_line_after is not None:
        lines.insert(bad_line_after, "not json")
    return ("\n".join(lines) + "\n").encode()


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_jsonl_file_is_scored_into_the_lambdas_layout_and_a_bad_record_is_exit_7(
    tmp_path: Path, default_model: Path, digits: np.ndarray
) -> None:
    (tmp_path / "digits.jsonl").write_bytes(jsonl(digits, bad_line_after=3))
    result = run_cli("score", "digits.jsonl", "--model", str(default_model), cwd=tmp_path)
    assert result.returncode == 7
    out = tmp_path / "scored" / "digits.jsonl"
    predictions, errors = lines_of(out / "predictions.jsonl"), lines_of(out / "errors.jsonl")
    assert [row["label"] for row in predictions] == expected_labels(default_model, digits)
    assert [row["id"] for row in predictions] == [f"img-{i}" for i in range(50)]
    assert [(error["record"], error["line"]) for error in errors] == [(4, 4)]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["records"] == {"in": 51, "scored": 50, "failed": 1}
    assert summary["input"]["uri"] == f"file://{tmp_path}/digits.jsonl"
    assert summary["outputs"]["predictions"] == f"file://{out}/predictions.jsonl"
    assert result.stdout.splitlines()[0] == (
        "digits.jsonl: 51 records, 50 scored, 1 failed in "
        f"{summary['timings_ms']['total'] / 1000:.2f} s -> scored/digits.jsonl/predictions.jsonl "
        "(errors: scored/digits.jsonl/errors.jsonl)"
    )
    assert result.stdout.splitlines()[1].startswith("total: 51 records in, 50 scored, 1 failed, in ")
    progress, error = result.stderr.splitlines()
    assert progress.startswith("scoring digits.jsonl (1 of 1, ")  # plain lines: stderr is not a terminal
    assert error == "error: not everything was scored: 1 record failed, 0 files rejected (see the errors files)"
    again = run_cli("score", "digits.jsonl", "--model", str(default_model), cwd=tmp_path)
    assert again.returncode == 7  # skipping the file does not make its failed record a success
    assert again.stderr.splitlines()[-1] == (
        "error: not everything was scored: 0 records failed, 0 files rejected, and 1 record failed in an earlier "
        "run (see the errors files)"
    )


def test_a_directory_is_scored_file_by_file_and_a_second_run_changes_nothing(
    tmp_path: Path, default_model: Path, digits: np.ndarray
) -> None:
    source = tmp_path / "data"
    (source / "nested").mkdir(parents=True)
    np.save(source / "a.npy", digits[:20])
    rows = io.StringIO()
    csv.writer(rows).writerows(image.ravel().astype(int).tolist() for image in digits[20:30])
    (source / "nested" / "b.csv").write_text(rows.getvalue())
    (source / "notes.txt").write_text("not an input")
    args = ("score", str(source), "--out", str(tmp_path / "out"), "--model", str(default_model))
    first = run_cli(*args, "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert [s["input"]["uri"] for s in report["files"]] == [f"file://{source}/a.npy", f"file://{source}/nested/b.csv"]
    assert report["totals"] == {
        "files_scored": 2, "files_rejected": 0, "files_already_scored": 0, "in": 30, "scored": 30, "failed": 0,
        "failed_before": 0,
    }  # fmt: skip
    scored = np.load(tmp_path / "out" / "a.npy" / "predictions.npy")
    assert scored["label"].tolist() == expected_labels(default_model, digits[:20])
    with (tmp_path / "out" / "nested" / "b.csv" / "predictions.csv").open() as file:
        assert [row["label"] for row in csv.DictReader(file)] == expected_labels(default_model, digits[20:30])
    again = run_cli(*args)
    assert again.returncode == 0
    assert again.stdout.count("already scored with this content and model version") == 2
    assert again.stdout.splitlines()[-1].endswith(
        "0 files scored, 0 rejected, 2 already scored, 1 passed over (not .jsonl, .ndjson, .csv or .npy)"
    )
    forced = json.loads(run_cli(*args, "--force", "--json").stdout)
    assert forced["totals"]["files_scored"] == 2


@pytest.mark.parametrize(
    "case",
    [
        ("dir", "data", "data/out", "--out {tmp}/data/out is inside {tmp}/data, which is scored"),
        ("dir", "data/a.jsonl", "data", "--out {tmp}/data is where {tmp}/data/a.jsonl is"),
        ("dir", "data/notes.txt", "out", "data/notes.txt: unsupported file type; expected .jsonl"),
        ("dir", "absent.jsonl", "out", "absent.jsonl is not a file, a directory or an s3:// URI"),
        ("empty", "data", "out", "nothing to score under {tmp}/data: no .jsonl, .ndjson, .csv or .npy files"),
    ],
)
def test_sources_and_outputs_that_cannot_work_are_one_line_exit_3(
    tmp_path: Path, default_model: Path, case: tuple[str, str, str, str]
) -> None:
    setup, source, out, expected = case
    (tmp_path / "data").mkdir()
    if setup == "dir":
        (tmp_path / "data" / "a.jsonl").write_text("[1]\n")
        (tmp_path / "data" / "notes.txt").write_text("x")
    result = run_cli("score", source, "--out", out, "--model", str(default_model), cwd=tmp_path)
    assert result.returncode == 3
    assert expected.format(tmp=tmp_path) in one_error_line(result)


def test_an_s3_prefix_is_scored_exactly_as_the_lambda_scores_it(
    aws: Aws, tmp_path: Path, default_model: Path, digits: np.ndarray
) -> None:
    aws.put("input/digits.jsonl", jsonl(digits, bad_line_after=10))
    lambda_run = run_cli("invoke", str(EVENTS / "s3.put.json"), "--model", str(default_model))  # the function
    assert lambda_run.returncode == 0, lambda_run.stderr
    cli_run = run_cli("score", f"s3://{INPUT_BUCKET}/input/", "--out", f"s3://{OUTPUT_BUCKET}/cli", "--json")
    assert cli_run.returncode == 7  # the bad line
    for name in ("predictions.jsonl", "errors.jsonl"):
        assert aws.read(f"cli/digits.jsonl/{name}", OUTPUT_BUCKET) == aws.read(f"output/digits.jsonl/{name}")
    (summary,) = json.loads(cli_run.stdout)["files"]
    assert summary["records"] == json.loads(aws.read("output/digits.jsonl/summary.json"))["records"]
    assert summary["outputs"]["predictions"] == f"s3://{OUTPUT_BUCKET}/cli/digits.jsonl/predictions.jsonl"
    local = run_cli("score", f"s3://{INPUT_BUCKET}/input/digits.jsonl", "--out", str(tmp_path))
    assert (tmp_path / "digits.jsonl" / "predictions.jsonl").read_bytes() == aws.read(
        "output/digits.jsonl/predictions.jsonl"
    )
    assert local.returncode == 7


def test_a_local_file_can_be_scored_into_s3(aws: Aws, tmp_path: Path, digits: np.ndarray) -> None:
    np.save(tmp_path / "digits.npy", digits)
    result = run_cli("score", str(tmp_path / "digits.npy"), "--out", f"s3://{OUTPUT_BUCKET}/from-laptop/")
    assert result.returncode == 0, result.stderr
    assert set(aws.objects(OUTPUT_BUCKET, "from-laptop/")) == {
        f"from-laptop/digits.npy/{name}" for name in ("predictions.npy", "errors.jsonl", "summary.json")
    }


def test_s3_refusing_is_one_line_exit_6(aws: Aws) -> None:
    result = run_cli("score", "s3://no-such-bucket/input/")
    assert result.returncode == 6
    assert one_error_line(result).startswith("error: S3: NoSuchBucket: ")
