"""``onnx-lambda score``: files, directories or S3 prefixes, scored by the batch function's own code.

The Lambda's ObjectScorer reads, scores (a chunk of BATCH_CHUNK_RECORDS at a time) and publishes each
input, so records, errors, output layout and re-run behaviour are exactly the deployed function's; only
the store differs (local directories beside S3, onnx_lambda.stores) and --out places the outputs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from onnx_lambda.errors import RecordsFailed, RemoteError, is_aws_error
from onnx_lambda.function import configure, function_output, init_errors, resolve_model
from onnx_lambda.parsing import MODEL_HELP, Commands, add_command

DETAILS = """
Reads JSON Lines (.jsonl, .ndjson: an instance per line, or {"id": ..., "instance": [...]}), CSV (.csv:
a row of numbers per line, an optional header with an id column) and .npy (a row per instance) and
writes, for each input, what the Lambda batch function writes: OUT/<input>/predictions.<ext> (same format
as the input), OUT/<input>/errors.jsonl (each failed record with its number, line and reason) and
OUT/<input>/summary.json (counts, model, timings). A directory or prefix is scored file by file, in key
order; other file types are passed over. What was already scored with the same content and model
version is not scored again (--force does). Progress goes to stderr, the summary to stdout.

s3:// sources and outputs use boto3's usual configuration (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL,
...). BATCH_CHUNK_RECORDS, BATCH_CHUNK_BYTES and MAX_RECORD_BYTES are honoured as by the function.
"""
EXAMPLES = """
  onnx-lambda score data/digits.jsonl                           # -> scored/digits.jsonl/predictions.jsonl
  onnx-lambda score data/ --out results/ --model models/my-model.onnx
  onnx-lambda score s3://my-bucket/input/ --out s3://my-bucket/output/
  onnx-lambda score s3://my-bucket/input/2024-06-01.csv --out results/
  onnx-lambda score data/digits.npy --json | jq '.totals'
"""


def register(commands: Commands) -> None:
    """``score SOURCE [--out DIR|s3://...] [--model --force --json]``."""
    summary = "score files or an S3 prefix with the batch function's code"
    parser = add_command(commands, "score", summary, DETAILS, EXAMPLES)
    parser.add_argument("source", metavar="SOURCE", help="a file, a directory, or s3://bucket/prefix/ (or one object)")
    parser.add_argument(
        "--out", default="scored", metavar="DIR|s3://BUCKET/PREFIX", help="where outputs go (default: ./scored)"
    )
    parser.add_argument("--model", metavar="MODEL.onnx", help=MODEL_HELP)
    parser.add_argument("--force", action="store_true", help="score again what was scored before (same content)")
    parser.add_argument(
        "--label-column",
        metavar="NAME",
        help="the column holding the true value: passed through, and metrics.json, metrics.md and a PNG plot are "
        "written to --out (BATCH_LABEL_COLUMN; needs the eval extra)",
    )
    parser.add_argument(
        "--passthrough", metavar="A,B", help="columns copied into the predictions (BATCH_PASSTHROUGH_COLUMNS)"
    )
    parser.add_argument("--json", action="store_true", help="print the summaries as JSON instead of text")
    parser.add_argument("--logs", action="store_true", help="show the function's own logs on stderr")
    parser.set_defaults(run=run)


@contextmanager
def aws_errors() -> Iterator[None]:
    """S3 refusing, or not answering, is a remote error."""
    try:
        yield
    except Exception as exc:
        if is_aws_error(exc):
            raise RemoteError(f"S3: {type(exc).__name__}: {exc}") from None
        raise


def run(args: argparse.Namespace) -> int:
    """Score SOURCE into --out; raises InputError, RemoteError, or RecordsFailed after the summary."""
    configure(resolve_model(args.model))
    for name, value in (("BATCH_LABEL_COLUMN", args.label_column), ("BATCH_PASSTHROUGH_COLUMNS", args.passthrough)):
        if value is not None:
            os.environ[name] = value
    with init_errors(), function_output(args.logs):
        from handler.dataplane import DataPlane  # noqa: PLC0415 - the handler only for the commands that run it
        from handler.repository import load_repository  # noqa: PLC0415
        from handler.settings import settings_from_env  # noqa: PLC0415

        settings = settings_from_env(os.environ)
        plane = DataPlane(load_repository(settings, "local"))
    with aws_errors(), function_output(args.logs):
        from onnx_lambda.score_run import score_all  # noqa: PLC0415 - imports the batch code

        started = time.perf_counter()
        outcome = score_all(plane, settings, args.source, args.out, force=args.force, stream=sys.stderr)
    report(outcome.summaries, outcome.names, outcome.passed_over, time.perf_counter() - started, args.json)
    if args.label_column:
        evaluate_run(outcome.summaries, args.out, args.json)
    return check(outcome.summaries)


def evaluate_run(summaries: list[dict[str, Any]], out: str, as_json: bool) -> None:
    """The metrics of this run's labelled files, written to --out (onnx_lambda.evaluating)."""
    from onnx_lambda.evaluating import headline, write_report  # noqa: PLC0415 - the eval extra, only when asked
    from onnx_lambda.score_plan import out_location  # noqa: PLC0415
    from onnx_lambda.stores import RoutedStore  # noqa: PLC0415

    counts = [summary["labels"] for summary in summaries if isinstance(summary.get("labels"), dict)]
    if not counts:
        return
    with aws_errors():
        figures = write_report(RoutedStore(), counts, out_location(out))
    if not as_json:
        print(headline(figures))
        print(f"report: {shown(figures['report']['metrics.md'])}")


def shown(uri: str) -> str:
    """A file:// URI as a path (relative when under the current directory); s3:// URIs as they are."""
    if not uri.startswith("file://"):
        return uri
    path = Path(uri.removeprefix("file://"))
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def count(number: int, noun: str) -> str:
    """1 -> '1 record', 2 -> '2 records', with thousands separators."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def file_line(name: str, summary: dict[str, Any]) -> str:
    """One input's outcome, with where its outputs are."""
    status, outputs = summary.get("status"), summary.get("outputs", {})
    predictions, errors = shown(outputs.get("predictions", "")), shown(outputs.get("errors", ""))
    if status == "already-scored":
        return f"{name}: already scored with this content and model version -> {predictions} (--force scores again)"
    if status == "rejected":
        return f"{name}: rejected: {summary.get('file_error')} -> {errors}"
    if status != "scored":
        return f"{name}: {status}: {summary.get('reason', '')}"
    counts, seconds = summary["records"], summary["timings_ms"]["total"] / 1000
    line = f"{name}: {count(counts['in'], 'record')}, {counts['scored']:,} scored, {counts['failed']:,} failed"
    line += f" in {seconds:.2f} s -> {predictions}"
    return line + (f" (errors: {errors})" if counts["failed"] else "")


def totals(summaries: list[dict[str, Any]]) -> dict[str, int]:
    """Records in, scored and failed over the files scored by this run, and how many files each way."""
    done = [s for s in summaries if s.get("status") in ("scored", "rejected")]
    return {
        "files_scored": sum(s.get("status") == "scored" for s in done),
        "files_rejected": sum(s.get("status") == "rejected" for s in done),
        "files_already_scored": sum(s.get("status") == "already-scored" for s in summaries),
        **{key: sum(int(s["records"][key]) for s in done) for key in ("in", "scored", "failed")},
        # What an earlier run left failed stays failed: a re-run that skips those files must not say success.
        "failed_before": sum(
            int(s.get("records", {}).get("failed", 0)) for s in summaries if s.get("status") == "already-scored"
        ),
    }


def report(summaries: list[dict[str, Any]], names: list[str], passed_over: int, seconds: float, as_json: bool) -> None:
    """The per-file lines and the totals on stdout (or all of it as one JSON document)."""
    counts = totals(summaries)
    if as_json:
        print(json.dumps({"files": summaries, "totals": counts, "seconds": round(seconds, 3)}, indent=2))
        return
    for name, summary in zip(names, summaries, strict=True):
        print(file_line(name, summary))
    rate = f" ({counts['in'] / seconds:,.0f} records/s)" if counts["in"] and seconds > 0 else ""
    files = f"{count(counts['files_scored'], 'file')} scored, {counts['files_rejected']:,} rejected"
    files += f", {counts['files_already_scored']:,} already scored" if counts["files_already_scored"] else ""
    files += f", {passed_over:,} passed over (not .jsonl, .ndjson, .csv or .npy)" if passed_over else ""
    print(
        f"total: {count(counts['in'], 'record')} in, {counts['scored']:,} scored, {counts['failed']:,} failed, "
        f"in {seconds:.2f} s{rate}; {files}"
    )


def check(summaries: list[dict[str, Any]]) -> int:
    """0 when every record was scored, by this run or the earlier one it skipped; raises RecordsFailed otherwise
    (exit code 7)."""
    counts = totals(summaries)
    if counts["failed"] or counts["files_rejected"] or counts["failed_before"]:
        failed = [count(counts["failed"], "record"), count(counts["files_rejected"], "file")]
        before = f", and {count(counts['failed_before'], 'record')} failed in an earlier run" * bool(
            counts["failed_before"]
        )
        raise RecordsFailed(
            f"not everything was scored: {failed[0]} failed, {failed[1]} rejected{before} (see the errors files)"
        )
    return 0
