"""Batch files for a model with a column schema: CSV whose header names the columns, JSON Lines of objects.

Columns are matched by name, in any order. An empty CSV cell, a JSON null or an absent column is a missing
value, exactly as over HTTP: the model takes it where it imputes, and the record fails (naming the column)
where it cannot; the values are checked by handler.columns when a chunk is turned into the model's feeds.
A quoted cell may span lines (RFC 4180), as a text column's reviews do. An ``id`` column (or key) names the
record, the carried columns (BATCH_PASSTHROUGH_COLUMNS, BATCH_LABEL_COLUMN) go through to the predictions, and
any other column is left out: a file may hold more than the model takes.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import IO, Any

from handler.batch.jsonl_records import json_line, record_id
from handler.batch.records import (
    Carried,
    Chunk,
    FileRejected,
    Line,
    ReadBounds,
    RecordError,
    RecordRejected,
    attempt,
    line_batches,
    read_lines,
)
from handler.columns import Column

Row = tuple[str | None, Any, dict[str, Any]]  # (id, the instance: column values or a request, carried columns)


def _cell(column: Column, text: str, where: str) -> Any:
    """A CSV cell as the column's value: None for an empty cell, a number for a number column."""
    if text == "":
        return None
    if column.kind == "string":
        return text
    try:
        number = float(text)
    except ValueError:
        raise RecordRejected(f"{where}, column {column.name!r}: {text[:40]!r} is not a number") from None
    return int(number) if column.kind == "int" and number.is_integer() and "." not in text else number


class _Header:
    """Where each model column, the id and each carried column are in the CSV's rows."""

    def __init__(self, names: list[str], columns: Sequence[Column], carried: Carried) -> None:
        self.width = len(names)
        self.positions = {column.name: names.index(column.name) for column in columns if column.name in names}
        absent = [column.name for column in columns if column.name not in names and not column.missing]
        if absent:
            raise FileRejected(
                f"the CSV header has no column {', '.join(map(repr, absent))}, which the model cannot take missing; "
                f"it names {', '.join(map(repr, names[:50]))}"
            )
        self.columns = [column for column in columns if column.name in self.positions]
        lowered = [name.strip().lower() for name in names]
        self.id_position = lowered.index("id") if "id" in lowered and "id" not in self.positions else None
        self.carried = {name: names.index(name) for name in carried.names if name in names}

    def row(self, text: str | None, problem: str | None, where: str) -> Row:
        if text is None:
            raise RecordRejected(f"{where}: {problem}")
        cells = next(csv.reader([text]), [])
        if len(cells) != self.width:
            raise RecordRejected(f"{where}: has {len(cells)} cells; the header names {self.width} columns")
        record_id = cells[self.id_position] if self.id_position is not None else None
        values = {column.name: _cell(column, cells[self.positions[column.name]], where) for column in self.columns}
        return record_id, values, {name: cells[index] for name, index in self.carried.items()}


def _header(lines: Iterator[Line], columns: Sequence[Column], carried: Carried) -> _Header:
    first = next(lines, None)
    if first is None or first.text is None or not first.text.strip():
        raise FileRejected("the CSV has no header: a model taking named columns reads them by the header's names")
    return _Header(next(csv.reader([first.text]), []), columns, carried)


def quoted_records(lines: Iterator[Line], limit: int) -> Iterator[Line]:
    """The CSV's records: a cell quoted across line breaks (a multi-line review) joins its lines into one record,
    numbered by its first line, as the csv module reads it; a record that runs past MAX_RECORD_BYTES (a quote
    never closed) is refused as a long line is, and reading goes on at the next line."""
    for line in lines:
        if line.text is None or line.text.count('"') % 2 == 0:
            yield line
            continue
        parts, size, problem = [line.text], line.size, None
        for more in lines:
            size += more.size
            if more.text is None or size > limit:
                problem = (
                    more.problem or f"a quoted cell runs past MAX_RECORD_BYTES ({limit} bytes): is a quote unclosed?"
                )
                break
            parts.append(more.text)
            if more.text.count('"') % 2:
                break
        yield Line(line.number, None if problem else "\n".join(parts), problem, size)


def line_chunk(batch: list[Line], parse: Callable[[str | None, str | None, str], Row], start: int) -> Chunk:
    """The chunk of one batch of lines, each parsed alone (records numbered from ``start``)."""
    chunk = Chunk()
    for offset, line in enumerate(batch):
        where = f"line {line.number}"
        item = attempt(start + offset, line.number, where, partial(parse, line.text, line.problem, where))
        if isinstance(item, RecordError):
            chunk.errors.append(item)
        else:
            chunk.add(item)
    return chunk


def read_table_csv(
    stream: IO[bytes], columns: Sequence[Column], bounds: ReadBounds, carried: Carried
) -> Iterator[Chunk]:
    """A CSV with a header, its rows as records of the model's columns, in chunks bounded by records and bytes."""
    lines = quoted_records(read_lines(stream, bounds.record_bytes), bounds.record_bytes)
    header = _header(lines, columns, carried)
    record = 1
    for batch in line_batches(lines, bounds):
        yield line_chunk(batch, header.row, record)
        record += len(batch)


def _object_row(columns: Sequence[Column], carried: Carried, text: str | None, problem: str | None, where: str) -> Row:
    value = json_line(text, problem, where)
    if not isinstance(value, dict):
        names = ", ".join(column.name for column in columns)
        raise RecordRejected(f"{where}: expected an object of the model's columns ({names})")
    given = record_id(value, where) if all(column.name != "id" for column in columns) else None
    values = {column.name: value[column.name] for column in columns if column.name in value}
    return given, values, {name: value.get(name) for name in carried.names}


def read_table_jsonl(
    stream: IO[bytes], columns: Sequence[Column], bounds: ReadBounds, carried: Carried
) -> Iterator[Chunk]:
    """JSON Lines of objects keyed by column name, in chunks bounded by records and bytes."""
    parse = partial(_object_row, columns, carried)
    for batch in line_batches(read_lines(stream, bounds.record_bytes), bounds):
        yield line_chunk(batch, parse, batch[0].number)
