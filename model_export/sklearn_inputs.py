"""What a converted scikit-learn graph takes: one float32 matrix (positional features) or one input per column.

A model fitted on a pandas DataFrame (it has ``feature_names_in_``) and exported with a DataFrame sample takes
its columns by name, with their own types (model_export.tabular); anything else takes ``input`` float32
[batch, n_features], as before. Either way the plan says what skl2onnx is given, what the artifact describes,
and which batches the parity check runs on, fed as the server will feed them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np

from model_export.boosters import without_feature_names
from model_export.deps import require
from model_export.errors import ParityError, ShapeMismatchError, UnsupportedModelError
from model_export.parity import (
    INPUT_NAME,
    FeedsOf,
    ParitySpec,
    SourcePredict,
    Tolerance,
    check_parity,
    generated_batch,
    open_session,
    parity_batches,
    single_input,
)
from model_export.tabular import (
    UNSEEN,
    Column,
    estimators_in,
    frame_feeds,
    initial_types,
    is_frame,
    match_missing_strings_as_empty,
    parity_frames,
    probe_frame,
    probed_columns,
    served_frame,
)
from model_export.text_inputs import text_batches, text_column, text_feeds_of, text_initial_types

GENERATED_ROWS = 64


@dataclass(frozen=True)
class InputPlan:
    """How the graph is converted and checked, for one kind of input."""

    to_convert: Any  # what skl2onnx converts: a copy of the model, adapted (never the caller's own)
    initial_types: list[tuple[str, Any]]
    inputs: Mapping[str, str]  # the ``inputs`` metadata: what each input holds
    batches: Sequence[Any]  # what the parity check runs the source model on
    feeds_of: FeedsOf
    columns: list[Column] | None = None  # the column schema, for tabular models
    sample: Any = None  # the sample DataFrame, as served (tabular models)
    notes: tuple[str, ...] = ()


def conversion_copy(model: Any) -> Any:
    """A deep copy to convert: string imputers match "", XGBoost boosters forget their feature names."""
    converted = copy.deepcopy(model)
    match_missing_strings_as_empty(converted)
    without_feature_names(estimator for estimator, _ in estimators_in(converted))
    return converted


def takes_columns(model: Any, sample: Any) -> bool:
    """Whether the export takes the model's columns by name: fitted on a DataFrame, and given one."""
    return is_frame(sample) and getattr(model, "feature_names_in_", None) is not None


def frame_plan(model: Any, sample: Any, predict: Callable[[Any], Any], quantize: str | None) -> InputPlan:
    """One input per column the model was fitted on, typed from the sample and probed on the model."""
    if quantize is not None:
        raise UnsupportedModelError(
            "--quantize int8 quantizes a one-input graph's weights; a model taking named columns has none to "
            "gain from it: export without it"
        )
    if len(sample) == 0:
        raise ShapeMismatchError("the sample DataFrame has no rows: give a few rows of the data the model takes")
    columns = probed_columns(model, sample, predict)
    frame = served_frame(sample, columns)
    to_convert = conversion_copy(model)
    if not _routes_columns(model):
        to_convert = _routed(to_convert, frame, columns)
    return InputPlan(
        to_convert=to_convert,
        initial_types=initial_types(columns),
        inputs={column.name: column.describe() for column in columns},
        batches=parity_frames(frame, columns),
        feeds_of=partial(frame_feeds, columns=columns),
        columns=columns,
        sample=frame,
    )


def _routes_columns(model: Any) -> bool:
    """Whether the model itself picks its columns by name: a ColumnTransformer first (or alone)."""
    first = model.steps[0][1] if getattr(model, "steps", None) else model
    return type(first).__name__ == "ColumnTransformer"


def _routed(model: Any, frame: Any, columns: Sequence[Column]) -> Any:
    """``model`` behind a passthrough ColumnTransformer, so skl2onnx joins the per-column inputs into the matrix
    the model takes; only numbers can pass through untransformed."""
    strings = [column.name for column in columns if column.kind == "string"]
    if strings:
        raise UnsupportedModelError(
            f"the model takes the string column(s) {strings} without an encoder in front of it; put it behind a "
            "ColumnTransformer with a OneHotEncoder or OrdinalEncoder for them"
        )
    compose, pipeline = require("sklearn.compose"), require("sklearn.pipeline")
    names = [column.name for column in columns]
    router = compose.ColumnTransformer([("columns", "passthrough", names)]).fit(frame)
    return pipeline.Pipeline([("columns", router), ("model", model)])


def array_plan(model: Any, n_features: int, data: np.ndarray | None) -> InputPlan:
    """``input`` float32 [batch, n_features]: the sample's rows, or generated ones."""
    data_types = require("skl2onnx.common.data_types")
    primary = data if data is not None else generated_batch((n_features,), GENERATED_ROWS)
    return InputPlan(
        to_convert=conversion_copy(model),
        initial_types=[(INPUT_NAME, data_types.FloatTensorType([None, n_features]))],
        inputs={INPUT_NAME: f"float32 [batch, {n_features}]: {n_features} numeric features"},
        batches=parity_batches(primary),
        feeds_of=single_input,
    )


def text_plan(model: Any, name: str, texts: list[str]) -> InputPlan:
    """One string input [batch, 1] for a model fitted on raw texts (model_export.text_inputs)."""
    column = text_column(name)
    return InputPlan(
        to_convert=conversion_copy(model),
        initial_types=text_initial_types(name),
        inputs={name: f"string [batch, 1]: the text to classify (column {name!r})"},
        batches=text_batches(texts),
        feeds_of=text_feeds_of(name),
        columns=[column],
    )


def settled(plan: InputPlan, graph: bytes, source: SourcePredict, spec: ParitySpec, tolerance: Tolerance) -> InputPlan:
    """The plan with each column's missing / unseen-category allowance kept only where the exported graph answers
    as the source model does on it: a pipeline can treat a missing string in a way a string tensor cannot carry
    (OrdinalEncoder passes NaN on to a booster as missing; the graph sees "" as one more unknown category). Such
    a column is served refusing the value, and a note says why; the parity batches are rebuilt from the result."""
    if plan.columns is None or plan.sample is None:
        return plan
    agrees = partial(_agrees, open_session(graph), source, spec=spec, tolerance=tolerance)
    columns, notes = [], []
    for given in plan.columns:
        column = given
        if column.missing and not agrees(probe_frame(plan.sample, column.name, None)):
            column = replace(column, missing=False)
            notes.append(f"column {column.name!r} may not be missing when served: {DISAGREES} a missing value")
        if column.unseen and not agrees(probe_frame(plan.sample, column.name, UNSEEN)):
            column = replace(column, unseen=False)
            notes.append(f"column {column.name!r} takes only the categories seen when served: {DISAGREES} another")
        columns.append(column)
    return replace(
        plan,
        inputs={column.name: column.describe() for column in columns},
        batches=parity_frames(plan.sample, columns),
        feeds_of=partial(frame_feeds, columns=columns),
        columns=columns,
        notes=tuple(notes),
    )


DISAGREES = "the exported graph does not answer as the source model does on"


def _agrees(session: Any, source: SourcePredict, frame: Any, *, spec: ParitySpec, tolerance: Tolerance) -> bool:
    try:
        check_parity(session, source, [frame], spec, tolerance)
    except ParityError:
        return False
    return True
