"""CSV input, one record per line: a first row without any number is a header, and its 'id' column the id;
the columns it names as carried (BATCH_PASSTHROUGH_COLUMNS, BATCH_LABEL_COLUMN) are passed through, and the
others are the instance's values, in order. (A model with a column schema reads CSV by name: table_records.)

Each line is split by the csv module inside the record's own attempt, so a cell past the module's field
limit, or a stray carriage return, fails that record alone.
"""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Iterator
from functools import partial
from typing import IO

import numpy as np

from handler.batch.records import (
    NOTHING_CARRIED,
    Carried,
    Chunk,
    Line,
    Parsed,
    ReadBounds,
    RecordRejected,
    attempt,
    chunked,
    line_batches,
    read_lines,
    to_instance,
)
from handler.codec import numbers_to_array
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
        self.skipped = {*([self.id_column] if self.id_column is not None else []), *self.carried.values()}

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
        features = [cell for index, cell in enumerate(cells) if index not in self.skipped]
        values = []
        for column, cell in enumerate(features, start=1):  # numbered among the features, as before
            try:
                values.append(float(cell))
            except ValueError:
                raise RecordRejected(f"{where}, column {column}: {cell[:40]!r} is not a number") from None
        return record_id, to_instance(values, spec, where), extras


class _CsvReader:
    """A file's records in file order: its layout, learnt from the first row, and the records counted so far."""

    def __init__(self, spec: TensorSpec, carried: Carried) -> None:
        self.spec, self.carried = spec, carried
        self.layout: _CsvLayout | None = None
        self.record = 0

    def chunk(self, lines: list[Line], bounds: ReadBounds) -> Chunk:
        """The lines' records: converted in one go when they all plainly fit, else split line by line."""
        whole = self._whole(lines)
        if whole is not None:
            return whole
        return next(chunked(self._items(lines), ReadBounds(len(lines), sys.maxsize, bounds.record_bytes)), Chunk())

    def _items(self, lines: list[Line]) -> Iterator[Parsed]:
        for line, text, problem, _ in lines:
            where = f"line {line}"
            if self.layout is None and problem is None:
                try:
                    first = _cells(text)
                except csv.Error:
                    first = []  # not a header: the record's own attempt below reports it
                if first:
                    self.layout = _CsvLayout(first, self.carried)
                    if self.layout.header:
                        continue
            self.record += 1
            layout = self.layout or _CsvLayout([])
            yield attempt(self.record, line, where, partial(_csv_record, layout, text, problem, self.spec, where))

    def _whole(self, lines: list[Line]) -> Chunk | None:
        """The chunk converted in one go, or None at any doubt (the line-by-line path then says what is wrong).

        Only lines the csv module splits exactly as ``str.split(",")`` does (no quote, carriage return or NUL;
        not empty), all of one width, go this way. numpy's loadtxt parses their feature cells, given the lines
        as a list (each line its own row: lines are never merged); what it reads is a subset of what float()
        reads, to the same values (tests/unit/test_batch_csv_chunks.py), and numbers_to_array's checks are per
        value, so a chunk passes exactly when each of its lines would. 64-pixel rows: ~85 -> ~15 us a record.
        """
        if -1 in self.spec.shape[1:] or not lines or any(_unplain(line.text) for line in lines):
            return None
        texts = [line.text for line in lines if line.text is not None]
        layout = self.layout or _CsvLayout(texts[0].split(","), self.carried)  # the first line decides
        if self.layout is None and layout.header:
            texts = texts[1:]
        skipped = layout.skipped
        rows = [text.split(",") for text in texts] if skipped else []  # cells beside the features
        instances = self._instances(texts, rows, skipped) if texts else []
        if instances is None:
            return None
        self.layout = layout
        counted = list(range(self.record + 1, self.record + 1 + len(texts)))
        self.record += len(texts)
        column = layout.id_column
        ids: list[str | None] = [row[column] for row in rows] if column is not None else [None] * len(texts)
        extras = [{name: row[index] for name, index in layout.carried.items()} for row in rows] or [{} for _ in texts]
        return Chunk(records=counted, ids=ids, instances=instances, extras=extras)

    def _instances(self, texts: list[str], rows: list[list[str]], skipped: set[int]) -> list[np.ndarray] | None:
        """Every line's instance, or None when the lines differ in width or any cell is in doubt (loadtxt
        refuses lines of another width itself; ``rows``, split, are only there when columns are skipped)."""
        features = None
        if skipped:
            width = len(rows[0])
            if any(len(row) != width for row in rows) or any(column >= width for column in skipped):
                return None
            features = [column for column in range(width) if column not in skipped]
        inner = self.spec.shape[1:]
        try:
            numbers = np.loadtxt(texts, np.float64, comments=None, delimiter=",", usecols=features, ndmin=2)
            array = numbers_to_array(numbers, self.spec.datatype, "chunk")
        except Exception:  # any doubt at all: the line-by-line path finds and words each bad line
            return None
        if array.shape != (len(texts), math.prod(inner)):
            return None
        return list(array.reshape(len(texts), *inner))


def _unplain(text: str | None) -> bool:
    """Whether the csv module might split this line otherwise than on every comma (or refuse it)."""
    return not text or '"' in text or "\r" in text or "\x00" in text


def _csv_record(
    layout: _CsvLayout, text: str | None, problem: str | None, spec: TensorSpec, where: str
) -> tuple[str | None, np.ndarray, dict[str, str]]:
    cells = [] if problem is not None else _cells(text)
    return layout.split(cells, spec, where, problem)


def read_csv(
    stream: IO[bytes], spec: TensorSpec, bounds: ReadBounds, carried: Carried = NOTHING_CARRIED
) -> Iterator[Chunk]:
    """CSV, one record per line, in chunks bounded by records and bytes."""
    reader = _CsvReader(spec, carried)
    for lines in line_batches(read_lines(stream, bounds.record_bytes), bounds):
        chunk = reader.chunk(lines, bounds)
        if len(chunk):
            yield chunk
