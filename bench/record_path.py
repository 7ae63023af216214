"""/predict with named records vs positional rows: the same pipeline (three numeric columns imputed, scaled,
then a logistic regression), fitted once on a DataFrame (one input per column, records decoded against its
column schema) and once on an array (one float input, rows stacked by numpy), through the Mangum adapter the
entry point builds, interleaved A, B, A, B in one process; medians of many requests. A third row is the
docs/examples.md's mixed-type pipeline (a string column one-hot encoded): records only, there is no positional form.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.scenarios import _event
from handler.lambda_instance import LocalContext
from handler.runtime import build_runtime
from handler.settings import settings_from_env
from model_export import export_sklearn
from tests.testkit import tabular

ROWS = 256
TARGET = 1.5  # the record path may cost at most this many times the positional one


@dataclass(frozen=True)
class RecordPath:
    name: str
    median_us: float
    ratio: float | None  # against the positional row


def _models(folder: Path) -> dict[str, Path]:
    from sklearn.impute import SimpleImputer  # noqa: PLC0415 - export-time packages, for this benchmark only
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415
    from sklearn.pipeline import make_pipeline  # noqa: PLC0415
    from sklearn.preprocessing import StandardScaler  # noqa: PLC0415

    frame, labels = tabular.customers(2000)
    numbers = frame[tabular.NUMERIC].astype(float)
    build = lambda: make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression())  # noqa: E731
    paths = {name: folder / f"{name}.onnx" for name in ("records", "positional", "mixed")}
    export_sklearn(build().fit(numbers, labels), paths["records"], sample=numbers.head(100))
    export_sklearn(build().fit(numbers.to_numpy(), labels), paths["positional"], sample=numbers.to_numpy()[:100])
    export_sklearn(tabular.imputing_pipeline(frame, labels), paths["mixed"], sample=frame.head(100))
    return paths


def _bodies() -> dict[str, bytes]:
    frame, _ = tabular.customers(ROWS, seed=5)
    numbers = frame[tabular.NUMERIC].astype(float).fillna(40.0)
    mixed = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return {
        "records": json.dumps({"instances": numbers.to_dict(orient="records")}).encode(),
        "positional": json.dumps({"instances": numbers.to_numpy().tolist()}).encode(),
        "mixed": json.dumps({"instances": mixed}).encode(),
    }


def _caller(model: Path, body: bytes) -> Callable[[], Any]:
    http = build_runtime(settings_from_env({"MODEL_PATH": str(model), "ORT_INTRA_OP_THREADS": "1"})).http
    event = _event("/predict", body, {"content-type": "application/json"})
    context = LocalContext()

    def call() -> Any:
        answer = http(event, context)
        assert answer["statusCode"] == 200, answer["body"][:300]
        return answer

    return call


def measure(repeats: int) -> list[RecordPath]:
    """The three rows, interleaved, each a median of ``repeats`` requests after a warm-up."""
    with tempfile.TemporaryDirectory() as folder:
        paths, bodies = _models(Path(folder)), _bodies()
        calls = {name: _caller(paths[name], bodies[name]) for name in paths}
        for call in calls.values():
            for _ in range(20):
                call()
        samples: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(repeats):
            for name, call in calls.items():
                started = time.perf_counter_ns()
                call()
                samples[name].append((time.perf_counter_ns() - started) / 1000)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    positional = medians["positional"]
    return [
        RecordPath("256 records, 3 numeric columns", medians["records"], medians["records"] / positional),
        RecordPath("256 positional rows of the same 3 numbers", positional, 1.0),
        RecordPath(
            "256 records, 4 mixed columns (the docs' pipeline)", medians["mixed"], medians["mixed"] / positional
        ),
    ]


def section(rows: list[RecordPath]) -> list[str]:
    lines = ["## Records vs positional rows", "", (__doc__ or "").split("\n\n")[0].replace("\n", " "), ""]
    lines += ["| request to /predict | median µs | vs positional |", "|---|---|---|"]
    lines += [f"| {r.name} | {r.median_us:,.0f} | {r.ratio:.2f}x |" for r in rows if r.ratio is not None]
    return lines
