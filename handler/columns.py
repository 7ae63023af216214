"""Tabular models' preprocessing contract: named columns in, one [batch, 1] tensor per column out.

An export of a model fitted on a DataFrame records each column's schema in the ``columns`` metadata_prop
(model_export.tabular): its type (float, int, string), whether the model takes it missing (it imputes it, or
handles NaN itself), and for strings the categories it saw and whether it takes others. Records, columns and
MLflow's DataFrame forms are all decoded here against that schema, so a client sends ``{"age": 31, "city":
null}`` and every mistake names the record, the column and what was expected. A missing value becomes NaN in
a float column and "" in a string one: the exported graph imputes those as the pipeline imputed NaN.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from handler.contract import MetadataKey as Key
from handler.errors import BadRequest, ModelLoadError
from handler.signature import DATATYPE_TO_NUMPY, TensorSpec, metadata_json

MISSING_STRING = ""  # how a missing string is fed (model_export.tabular.MISSING_STRING writes the same)
KIND_DATATYPES = {"float": ("FP32", "FP64"), "int": ("INT64", "INT32"), "string": ("BYTES",)}
KIND_WORDS = {"float": "a number", "int": "an integer", "string": "text"}
_SHOWN_CATEGORIES = 20

Where = Callable[[int], str]


@dataclass(frozen=True)
class Column:
    """One input column: its schema from the metadata, and the graph input it feeds."""

    spec: TensorSpec
    kind: str
    missing: bool
    categories: frozenset[str] | None = None
    unseen: bool = True

    @property
    def name(self) -> str:
        return self.spec.name

    def expected(self) -> str:
        """What a value of this column may be, for error messages."""
        words = KIND_WORDS[self.kind] + (" or null (missing)" if self.missing else "")
        if self.categories is not None and not self.unseen:
            shown = sorted(self.categories)[:_SHOWN_CATEGORIES]
            more = ", ..." if len(self.categories) > _SHOWN_CATEGORIES else ""
            words += f", one of {', '.join(repr(item) for item in shown)}{more}"
        return words

    @property
    def range_text(self) -> str:
        """The datatype's range, for a number outside it."""
        dtype = DATATYPE_TO_NUMPY[self.spec.datatype]
        limits = np.finfo(dtype) if self.kind == "float" else np.iinfo(dtype)
        return f"within ±{float(limits.max):g}" if self.kind == "float" else f"in [{limits.min}, {limits.max}]"


def _column(entry: Any, specs: Mapping[str, TensorSpec]) -> Column:
    """One ``columns`` entry checked against the graph; raises ModelLoadError naming what disagrees."""
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or entry.get("type") not in KIND_WORDS:
        raise ModelLoadError(f"metadata_props 'columns' holds {str(entry)[:200]}: expected {{name, type, missing}}")
    spec = specs.get(entry["name"])
    kind = str(entry["type"])
    if spec is None or spec.datatype not in KIND_DATATYPES[kind] or spec.shape not in ((-1, 1), (-1,)):
        found = spec.describe() if spec else "no such input"
        raise ModelLoadError(
            f"metadata_props 'columns' describes {kind} column {entry['name']!r}, but the graph has {found}: "
            f"expected an input of shape [batch, 1] and datatype {' or '.join(KIND_DATATYPES[kind])}"
        )
    categories = entry.get("categories")
    return Column(
        spec=spec,
        kind=kind,
        missing=bool(entry.get("missing")) and kind != "int",  # no int64 value can stand for missing
        categories=frozenset(str(item) for item in categories) if isinstance(categories, list) else None,
        unseen=entry.get("unseen") is not False,
    )


def columns_of(metadata: Mapping[str, str], inputs: Sequence[TensorSpec]) -> tuple[Column, ...] | None:
    """The model's columns, in graph order, when its metadata describes every input as one; else None."""
    entries = metadata_json(metadata, Key.COLUMNS)
    if entries is None:
        return None
    if not isinstance(entries, list):
        raise ModelLoadError("metadata_props 'columns' is not a JSON list of columns")
    specs = {spec.name: spec for spec in inputs}
    columns = {column.name: column for column in (_column(entry, specs) for entry in entries)}
    uncovered = [spec.name for spec in inputs if spec.name not in columns]
    if uncovered:
        raise ModelLoadError(f"metadata_props 'columns' does not describe the input(s) {uncovered}")
    return tuple(columns[spec.name] for spec in inputs)


def _json_kind(value: Any) -> str:
    return {bool: "a boolean", str: "text", list: "an array", dict: "an object"}.get(type(value), "a number")


def _fail(where: str, column: Column, value: Any) -> BadRequest:
    got = "null" if value is None else f"{_json_kind(value)} ({json.dumps(value)[:60]})"
    expected = column.expected()
    if type(value) in (int, float) and column.kind != "string":
        expected += f" {column.range_text}"
    return BadRequest(f"{where}: column {column.name!r} got {got}: expected {expected}")


def _strings(column: Column, values: Sequence[Any], where: Where) -> np.ndarray:
    texts: list[str] = []
    closed = column.categories if column.categories is not None and not column.unseen else None
    for index, value in enumerate(values):
        if value is None and column.missing:
            texts.append(MISSING_STRING)
        elif type(value) is not str or (closed is not None and value not in closed):
            raise _fail(where(index), column, value)
        else:
            texts.append(value)
    return np.asarray(texts, dtype=object)


def _number(column: Column, value: Any, limit: float) -> float | int | None:
    """The value as the column's number, or None when it is not one the column takes (``limit``: its datatype's
    largest magnitude)."""
    if value is None or (type(value) is float and math.isnan(value)):
        return math.nan if column.missing else None
    if type(value) is float and column.kind == "int":
        value = int(value) if value.is_integer() else None
    if type(value) not in (int, float) or not abs(value) <= limit:
        return None
    number: float | int = value
    return number


def _numbers(column: Column, values: Sequence[Any], where: Where) -> np.ndarray:
    dtype = DATATYPE_TO_NUMPY[column.spec.datatype]
    limit = float(np.finfo(dtype).max) if column.kind == "float" else float(np.iinfo(dtype).max)
    numbers = [_number(column, value, limit) for value in values]
    for index, number in enumerate(numbers):
        if number is None:
            raise _fail(where(index), column, values[index])
    return np.asarray(numbers, dtype=dtype)


def column_array(column: Column, values: Sequence[Any], where: Where) -> np.ndarray:
    """One column's values as its input tensor ([batch, 1] or [batch]); raises BadRequest naming the value."""
    array = _strings(column, values, where) if column.kind == "string" else _numbers(column, values, where)
    return array.reshape((-1, 1)) if len(column.spec.shape) == 2 else array


def _in_record(prefix: str, index: int, name: str) -> str:
    return f"{prefix}[{index}].{name}"


def _in_column(prefix: str, name: str, index: int) -> str:
    return f"{prefix}.{name}[{index}]"


def _named(where: Callable[[int, str], str], name: str, index: int) -> str:
    return where(index, name)


def values_to_feeds(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], where: Callable[[int, str], str]
) -> dict[str, np.ndarray]:
    """Rows of column values (an absent column is missing) as the model's feeds; ``where(row, column)`` names a
    value in an error."""
    return {
        column.name: column_array(column, [row.get(column.name) for row in rows], partial(_named, where, column.name))
        for column in columns
    }


def records_to_feeds(records: Sequence[Any], columns: Sequence[Column], prefix: str) -> dict[str, np.ndarray]:
    """Records (objects keyed by column name; an absent key is a missing value) as the model's feeds."""
    names = {column.name for column in columns}
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise BadRequest(
                f"{prefix}[{index}]: expected an object of columns ({', '.join(sorted(names))}), got "
                f"{_json_kind(record)}"
            )
        unknown = next((key for key in record if key not in names), None)
        if unknown is not None:
            raise BadRequest(
                f"{prefix}[{index}]: unknown column {unknown[:100]!r}: the model takes {', '.join(sorted(names))}"
            )
    return values_to_feeds(records, columns, partial(_in_record, prefix))


def columns_to_feeds(data: Mapping[str, Any], columns: Sequence[Column], prefix: str) -> dict[str, np.ndarray]:
    """Columns (a list of values per column name; an absent optional column is missing throughout) as feeds."""
    names = {column.name for column in columns}
    unknown = next((key for key in data if key not in names), None)
    if unknown is not None:
        raise BadRequest(f"{prefix}: unknown column {unknown[:100]!r}: the model takes {', '.join(sorted(names))}")
    lengths = {name: len(values) for name, values in data.items() if isinstance(values, list)}
    bad = next((name for name, values in data.items() if not isinstance(values, list)), None)
    if bad is not None:
        raise BadRequest(f"{prefix}.{bad}: expected an array of the column's values, one per row")
    if len(set(lengths.values())) > 1 or not lengths:
        raise BadRequest(f"{prefix}: the columns have {lengths or 'no'} values: expected the same number in each")
    rows = next(iter(lengths.values()))
    absent = next((column for column in columns if column.name not in data and not column.missing), None)
    if absent is not None:
        raise BadRequest(
            f"{prefix}: column {absent.name!r} is absent, and the model cannot take it missing: expected "
            f"{absent.expected()} for each row"
        )
    return {
        column.name: column_array(
            column, data.get(column.name) or [None] * rows, partial(_in_column, prefix, column.name)
        )
        for column in columns
    }


def example_value(column: Column) -> Any:
    """A value the column takes, for documentation: zero, or the first category seen."""
    if column.kind == "string":
        return min(column.categories) if column.categories else "text"
    return 0.0 if column.kind == "float" else 0


def example_records(columns: Sequence[Column]) -> list[dict[str, Any]]:
    """Rows the model takes, for /docs: one with a value in every column, and one with null wherever the model
    takes a missing value (when it takes any)."""
    full = {column.name: example_value(column) for column in columns}
    gaps = {column.name: None if column.missing else full[column.name] for column in columns}
    return [full, gaps] if gaps != full else [full]
