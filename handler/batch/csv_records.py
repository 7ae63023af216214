"""CSV input, one record per line: a first row without any number is a header, and its 'id' column the id;
the columns it names as carried (BATCH_PASSTHROUGH_COLUMNS, BATCH_LABEL_COLUMN) are passed through, and the
others are the instance's values, in order. (A model with a column schema reads CSV by name: table_records.)

Each line is split by the csv module inside the record's own attempt, so a cell past the module's field
limit, or a stray carriage return, fails that record alone.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from functools import partial
from typing import IO

import numpy as np

from handler.batch.records import (
    NOTHING_CARRIED,
    Carried,
    Chunk,
    Parsed,
    ReadBounds,
    RecordRejected,
    attempt,
    chunked,
    read_lines,
    to_instance,
)
from handler.signature import TensorSpec


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _cells(text: str | None) -> list[str]:
    """The line's cells; raises csv.Error on a line the module cannot split (see records.unreadable)."""
    return next(csv.reader([text]), []) if text is not None else []


class _CsvLayout:
    """Which columns hold the id, the carried columns and the features, learnt from the first row (a header
    has no numbers)."""

    def __init__(self, first: list[str], carried: Carried = NOTHING_CARRIED) -> None:
        self.header = bool(first) and not any(_is_number(cell) for cell in first)
        names = [cell.strip() for cell in first] if self.header else []
        lowered = [name.lower() for name in names]
        self.id_column = lowered.index("id") if "id" in lowered else None
        self.carried = {name: names.index(name) for name in carried.names if name in names}

    def split(
        self, cells: list[str], spec: TensorSpec, where: str, problem: str | None = None
    ) -> tuple[str | None, np.ndarray, dict[str, str]]:
        """The record's id and its instance; raises RecordRejected (with ``problem`` when reading failed)."""
        if problem is not None:
            raise RecordRejected(f"{where}: {problem}")
        if not cells:
            raise RecordRejected(f"{where}: empty line; expected a row of numbers")
        record_id = None
        if self.id_column is not None:
            if len(cells) <= self.id_column:
                raise RecordRejected(f"{where}: no value in the 'id' column (column {self.id_column + 1})")
            record_id = cells[self.id_column]
        extras = {name: cells[index] if index < len(cells) else "" for name, index in self.carried.items()}
        skipped = {self.id_column, *self.carried.values()}
        features = [cell for index, cell in enumerate(cells) if index not in skipped]
        values = []
        for column, cell in enumerate(features, start=1):  # numbered among the features, as before
            try:
                values.append(float(cell))
            except ValueError:
                raise RecordRejected(f"{where}, column {column}: {cell[:40]!r} is not a number") from None
        return record_id, to_instance(values, spec, where), extras


def _csv_items(stream: IO[bytes], spec: TensorSpec, limit: int, carried: Carried) -> Iterator[Parsed]:
    layout: _CsvLayout | None = None
    record = 0
    for line, text, problem, _ in read_lines(stream, limit):
        where = f"line {line}"
        if layout is None and problem is None:
            try:
                first = _cells(text)
            except csv.Error:
                first = []  # not a header: the record's own attempt below reports it
            if first:
                layout = _CsvLayout(first, carried)
                if layout.header:
                    continue
        record += 1
        yield attempt(record, line, where, partial(_csv_record, layout or _CsvLayout([]), text, problem, spec, where))


def _csv_record(
    layout: _CsvLayout, text: str | None, problem: str | None, spec: TensorSpec, where: str
) -> tuple[str | None, np.ndarray, dict[str, str]]:
    cells = [] if problem is not None else _cells(text)
    return layout.split(cells, spec, where, problem)


def read_csv(
    stream: IO[bytes], spec: TensorSpec, bounds: ReadBounds, carried: Carried = NOTHING_CARRIED
) -> Iterator[Chunk]:
    """CSV, one record per line, in chunks bounded by records and bytes."""
    return chunked(_csv_items(stream, spec, bounds.record_bytes, carried), bounds)
