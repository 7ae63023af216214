"""Tabular models: a model fitted on a pandas DataFrame of named, mixed-type columns, one ONNX input per column.

The sample DataFrame gives each column's type: float (float32 [batch, 1]), integer (int64) or string. What the
server may accept for each column is found by asking the fitted model itself, on copies of the sample: a column
may be missing when the model predicts with it missing (an imputer, or a model that handles NaN, as LightGBM
and XGBoost do), and a string column may take a category the model never saw when the model predicts with one
(OneHotEncoder(handle_unknown="ignore"), OrdinalEncoder with an unknown_value). An integer column the model
imputes is served as float, the only tensor type that can carry a missing value; a missing string travels as ""
(``MISSING_STRING``), which the exported graph imputes as the pipeline imputes NaN (skl2onnx's string imputer
cannot match NaN, so the converted copy's string imputers match "" instead). The parity check then runs on the
sample and on rows with those missing values and unseen categories.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from model_export.deps import require
from model_export.errors import ShapeMismatchError

MISSING_STRING = ""  # how a missing string is fed to the graph (the handler's contract too: handler.columns)
UNSEEN = "__onnx_lambda_unseen_category__"  # a category no model was fitted on, for the probes and parity
PROBE_ROWS = 8  # rows of the sample each probe and each parity row-set takes
KIND_TENSOR = {"float": "FloatTensorType", "int": "Int64TensorType", "string": "StringTensorType"}
KIND_NUMPY: dict[str, Any] = {"float": np.float32, "int": np.int64, "string": np.object_}


@dataclass(frozen=True)
class Column:
    """One input column as the artifact's ``columns`` metadata describes it to the server."""

    name: str
    kind: str  # "float", "int" or "string"
    missing: bool = False  # whether the model takes the column missing (JSON null, an empty CSV cell)
    categories: tuple[str, ...] | None = None  # for strings: the categories the model's encoder saw, when known
    unseen: bool | None = None  # for strings: whether a category outside ``categories`` is taken

    def to_dict(self) -> dict[str, Any]:
        """The JSON object stored for this column."""
        entry: dict[str, Any] = {"name": self.name, "type": self.kind, "missing": self.missing}
        if self.kind == "string":
            entry["categories"] = list(self.categories) if self.categories is not None else None
            entry["unseen"] = self.unseen
        return entry

    def describe(self) -> str:
        """What the input holds, for the ``inputs`` metadata and ``inspect``."""
        dtype = {"float": "float32", "int": "int64", "string": "string"}[self.kind]
        missing = "may be missing (the model imputes it)" if self.missing else "may not be missing"
        return f"{dtype} [batch, 1]: column {self.name!r}, {missing}"


def is_frame(sample: Any) -> bool:
    """True for a pandas DataFrame (duck-typed: pandas is imported only when one is given)."""
    return hasattr(sample, "columns") and hasattr(sample, "dtypes") and hasattr(sample, "iloc")


def _kind(name: str, dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    if kind == "f":
        return "float"
    if kind in "iu":
        return "int"
    if kind == "b":
        raise ShapeMismatchError(f"column {name!r} is boolean: give it as an integer (0/1) column and refit")
    if str(dtype) == "category":
        raise ShapeMismatchError(f"column {name!r} has pandas' category dtype: give it as strings (astype(str))")
    return "string"


def model_columns(model: Any, frame: Any) -> list[str]:
    """The columns the model was fitted on (its feature_names_in_), checked against the sample's."""
    fitted = [str(name) for name in model.feature_names_in_]
    absent = [name for name in fitted if name not in frame.columns]
    if absent:
        raise ShapeMismatchError(
            f"the sample lacks the column(s) {absent} the model was fitted on; expected the columns {fitted}"
        )
    return fitted


def frame_feeds(frame: Any, columns: Sequence[Column]) -> dict[str, np.ndarray]:
    """The graph's feeds for a DataFrame, as the server builds them: [rows, 1] per column, missing strings as ""."""
    feeds: dict[str, np.ndarray] = {}
    for column in columns:
        values = frame[column.name]
        if column.kind == "string":
            texts = [MISSING_STRING if _is_missing(value) else str(value) for value in values.tolist()]
            feeds[column.name] = np.asarray(texts, dtype=object).reshape(-1, 1)
        else:
            feeds[column.name] = values.to_numpy(dtype=KIND_NUMPY[column.kind]).reshape(-1, 1)
    return feeds


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _predicts(predict: Any, frame: Any) -> bool:
    """Whether the source model predicts on ``frame`` at all (the probes' question)."""
    try:
        predict(frame)
    except Exception:  # scikit-learn, LightGBM and XGBoost raise their own types for a value they refuse
        return False
    return True


def probe_frame(frame: Any, name: str, value: Any) -> Any:
    """PROBE_ROWS rows of ``frame`` with column ``name`` set to ``value`` (None: missing), taken from the rows
    without a missing value when there are any, so that each probe asks about one column alone."""
    complete = frame.dropna()
    rows = (complete if len(complete) else frame).iloc[:PROBE_ROWS].copy().reset_index(drop=True)
    # A gap as pandas reads a blank cell: NaN in the column's own dtype (an all-NaN column would become float,
    # which an encoder fitted on strings refuses); integers become float, the only dtype with NaN.
    rows[name] = rows[name].where(np.zeros(len(rows), dtype=bool)) if value is None else value
    return rows


def probed_columns(model: Any, frame: Any, predict: Any) -> list[Column]:
    """Each column the model takes, with its type, and whether it may be missing or take an unseen category."""
    categories = encoder_categories(model)
    columns = []
    for name in model_columns(model, frame):
        kind = _kind(name, frame[name].dtype)
        missing = _predicts(predict, probe_frame(frame, name, None))
        if kind == "int" and missing:
            kind = "float"  # the only tensor type that carries a missing value
        column = Column(name, kind, missing)
        if kind == "string":
            unseen = _predicts(predict, probe_frame(frame, name, UNSEEN))
            column = replace(column, categories=categories.get(name), unseen=unseen)
        columns.append(column)
    return columns


def served_frame(frame: Any, columns: Sequence[Column]) -> Any:
    """The sample's model columns in the model's order, integer columns the model imputes made float."""
    served = frame[[column.name for column in columns]].copy()
    for column in columns:
        if column.kind == "float" and served[column.name].dtype.kind != "f":
            served[column.name] = served[column.name].astype("float64")
    return served


def parity_frames(frame: Any, columns: Sequence[Column]) -> list[Any]:
    """The sample (without rows missing a value the served model refuses to take missing), cycled to another
    length, and (where the model takes them) rows with each column missing and each string column holding an
    unseen category."""
    pandas = require("pandas")
    refused = [column.name for column in columns if not column.missing]
    frame = frame[~frame[refused].isna().any(axis=1)].reset_index(drop=True) if refused else frame
    if len(frame) == 0:
        raise ShapeMismatchError(
            f"every row of the sample has a missing value in a column the served model cannot take missing "
            f"({', '.join(refused)}): give rows with values in them"
        )
    size = next(n for n in (1, 3, 5, 7) if n != len(frame))
    frames = [frame, frame.iloc[np.resize(np.arange(len(frame)), size)].reset_index(drop=True)]
    probes = [probe_frame(frame, column.name, None) for column in columns if column.missing]
    probes += [probe_frame(frame, column.name, UNSEEN) for column in columns if column.unseen]
    if probes:
        frames.append(pandas.concat(probes, ignore_index=True))
    return frames


def initial_types(columns: Sequence[Column]) -> list[tuple[str, Any]]:
    """skl2onnx's initial_types: one [None, 1] tensor per column, of the column's type."""
    data_types = require("skl2onnx.common.data_types")
    return [(column.name, getattr(data_types, KIND_TENSOR[column.kind])([None, 1])) for column in columns]


def estimators_in(model: Any) -> Iterator[tuple[Any, list[str] | None]]:
    """Every estimator inside ``model`` (Pipeline steps, ColumnTransformer and FeatureUnion parts), each with
    the column names a ColumnTransformer routes to it (None when it does not say)."""
    stack: list[tuple[Any, list[str] | None]] = [(model, None)]
    while stack:
        estimator, names = stack.pop()
        yield estimator, names
        for _, step in getattr(estimator, "steps", None) or []:
            stack.append((step, names))
        for _, part, routed in getattr(estimator, "transformers_", None) or []:
            named = isinstance(routed, list) and all(isinstance(name, str) for name in routed)
            stack.append((part, [str(name) for name in routed] if named else None))
        for _, part in getattr(estimator, "transformer_list", None) or []:
            stack.append((part, names))


def encoder_categories(model: Any) -> dict[str, tuple[str, ...]]:
    """The categories each string column's encoder saw (OneHotEncoder, OrdinalEncoder), by column name."""
    found: dict[str, tuple[str, ...]] = {}
    for estimator, names in estimators_in(model):
        seen = getattr(estimator, "categories_", None)
        if names is None or seen is None or len(seen) != len(names):
            continue
        for name, values in zip(names, seen, strict=True):
            if all(isinstance(value, str) or _is_missing(value) for value in values):
                found[name] = tuple(str(value) for value in values if not _is_missing(value))
    return found


def match_missing_strings_as_empty(model: Any) -> None:
    """Make the string imputers of ``model`` (a copy being converted) treat "" as missing: skl2onnx converts a
    string SimpleImputer only when its missing value is a string."""
    for estimator, _ in estimators_in(model):
        statistics = getattr(estimator, "statistics_", None)
        strings = statistics is not None and statistics.dtype.kind == "O"
        if type(estimator).__name__ == "SimpleImputer" and strings and _is_missing(estimator.missing_values):
            estimator.missing_values = MISSING_STRING


def columns_metadata(columns: Sequence[Column]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The ``inputs`` descriptions and the ``columns`` schema the artifact records."""
    return {column.name: column.describe() for column in columns}, [column.to_dict() for column in columns]
