"""``onnx-lambda evaluate``: the metrics of files scored with a label column, from their summaries alone.

The batch function (and ``score --label-column``) adds to each file's summary.json the counts its metrics are
made of (handler.batch.label_counts), so a prefix scored in AWS is evaluated without reading its inputs or its
predictions again: the summaries under the prefix are added up and the report (metrics.json, metrics.md and a
PNG plot) is written beside them, or under --report.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onnx_lambda import metrics
from onnx_lambda.errors import InputError
from onnx_lambda.parsing import Commands, add_command

if TYPE_CHECKING:  # imported where used: the handler's batch code reads the settings as it is imported
    from onnx_lambda.score_plan import Location
    from onnx_lambda.stores import RoutedStore

SUMMARY = "summary.json"
DETAILS = f"""SCORED is what `score --out` (or the batch function's OUTPUT_PREFIX) holds: every {SUMMARY} under it
with label counts is added up. Classification: accuracy, per-class precision, recall and F1, macro and
weighted averages, log loss and the confusion matrix; regression: MAE, RMSE and R². The report is
metrics.json, metrics.md and confusion.png (or residuals.png), under SCORED unless --report says where.
Needs the eval extra: {metrics.EVAL_HINT}."""
EXAMPLES = """
  onnx-lambda score customers.csv --label-column churned --out scored/   # scores, then evaluates
  onnx-lambda evaluate scored/
  onnx-lambda evaluate s3://my-bucket/output/2026-12/ --report evaluation/
"""


def register(commands: Commands) -> None:
    """``evaluate SCORED [--report DIR|s3://...] [--json]``."""
    parser = add_command(commands, "evaluate", "metrics of scored files with labels", DETAILS, EXAMPLES)
    parser.add_argument(
        "scored", metavar="SCORED", help=f"a directory or s3://bucket/prefix/ of scored outputs, or one {SUMMARY}"
    )
    parser.add_argument("--report", metavar="DIR|s3://BUCKET/PREFIX", help="where the report goes (default: SCORED)")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.set_defaults(run=run)


def labelled_summaries(store: RoutedStore, where: Location) -> list[dict[str, Any]]:
    """Every summary under ``where`` that carries label counts, in key order."""
    found = []
    for ref, _ in store.list_objects(where.bucket, where.prefix):
        if ref.key.rsplit("/", 1)[-1] == SUMMARY:
            summary = store.read_json(ref)
            if summary and isinstance(summary.get("labels"), dict):
                found.append(summary)
    return found


def write_report(store: RoutedStore, counts: list[dict[str, Any]], report: Location) -> dict[str, Any]:
    """Add the counts up, compute the metrics and write the report under ``report``; returns the metrics."""
    from handler.batch.store import ObjectRef  # noqa: PLC0415 - see TYPE_CHECKING above
    from onnx_lambda.score_plan import Location  # noqa: PLC0415
    from onnx_lambda.stores import is_local  # noqa: PLC0415

    total = metrics.merged(counts)
    figures = metrics.evaluate(total)
    image_name = "confusion.png" if figures["task"] == "classification" else "residuals.png"
    image = io.BytesIO()
    metrics.plot(total, figures, image)
    files = {
        "metrics.json": (json.dumps(figures, indent=2).encode(), "application/json"),
        "metrics.md": (metrics.markdown(figures, image_name).encode(), "text/markdown"),
        image_name: (image.getvalue(), "image/png"),
    }
    if is_local(report.bucket):
        Path(report.bucket, report.prefix).mkdir(parents=True, exist_ok=True)
    for name, (data, content_type) in files.items():
        store.publish(ObjectRef(report.bucket, report.prefix + name), io.BytesIO(data), content_type)
    shown = Location(report.bucket, report.prefix).uri
    return figures | {"report": {name: f"{shown.rstrip('/')}/{name}" for name in files}}


def headline(figures: dict[str, Any]) -> str:
    """The one line a terminal shows."""
    if figures["task"] == "classification":
        loss = f", log loss {figures['log_loss']:.4f}" if figures["log_loss"] is not None else ""
        text = f"accuracy {figures['accuracy']:.4f}, macro F1 {figures['macro']['f1']:.4f}{loss}"
    else:
        r2 = "n/a" if figures["r2"] is None else f"{figures['r2']:.4f}"
        text = f"MAE {figures['mae']:.4g}, RMSE {figures['rmse']:.4g}, R² {r2}"
    return f"{figures['records']:,} labelled records ({figures['label_column']}): {text}"


def report_for(store: RoutedStore, scored: Location, report: Location | None = None) -> dict[str, Any]:
    """The metrics of the summaries under ``scored``, reported under ``report`` (default: ``scored``)."""
    counts = [summary["labels"] for summary in labelled_summaries(store, scored)]
    if not counts:
        raise InputError(f"no {SUMMARY} under {scored.uri} has label counts: score with --label-column first")
    return write_report(store, counts, report or scored)


def run(args: argparse.Namespace) -> int:
    """Evaluate SCORED; raises InputError when nothing there was scored with labels."""
    from onnx_lambda.score_plan import Location, out_location, source_location  # noqa: PLC0415 - see TYPE_CHECKING
    from onnx_lambda.stores import RoutedStore  # noqa: PLC0415

    scored = out_location(args.scored) if args.scored.startswith("s3://") else source_location(args.scored)
    if scored.key is not None and scored.key.rsplit("/", 1)[-1] == SUMMARY:  # one scored file's own summary
        scored = Location(scored.bucket, scored.key[: -len(SUMMARY)])
    elif scored.key is not None:
        raise InputError(f"{args.scored} is a file: give the directory or prefix that holds the {SUMMARY} files")
    figures = report_for(RoutedStore(), scored, out_location(args.report) if args.report else None)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(headline(figures))
        print(f"report: {figures['report']['metrics.md']}")
    return 0
