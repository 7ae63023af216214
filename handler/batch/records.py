"""Input files as a stream of chunks of records: JSON Lines, CSV and .npy, never the whole file in memory.

Each record is checked on its own, so one bad line costs one record, not the file: a chunk carries the
instances that fit the model and, beside them, each rejected record with its number, line and reason.
Records are numbered from 1 in file order; for text files the line number is kept too (a CSV header
is a line but not a record).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from typing import IO, Any

import numpy as np
import pydantic_core

from handler.codec import json_to_array
from handler.errors import ApiError
from handler.signature import TensorSpec

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".npy": "npy"}


class RecordRejected(ValueError):
    """One record cannot be scored; the message says why and what was expected. ``record_id`` is the id the
    record gave, when it could be read, so the errors file names the record as its sender does."""

    def __init__(self, message: str, record_id: str | None = None) -> None:
        super().__init__(message)
        self.record_id = record_id


class FileRejected(ValueError):
    """The file as a whole cannot be read (not this format, or a dtype the model cannot take)."""


@dataclass(frozen=True)
class RecordError:
    """A record that was not scored, and why."""

    record: int | None  # None: the file itself failed before any record could be counted
    line: int | None
    id: str | None
    reason: str

    def as_json(self) -> dict[str, Any]:
        """The errors-object line for this record."""
        return {"record": self.record, "line": self.line, "id": self.id, "reason": self.reason}


@dataclass
class Chunk:
    """Up to BATCH_CHUNK_RECORDS consecutive records: the scorable ones stacked, the rest as errors."""

    records: list[int] = field(default_factory=list)
    ids: list[str | None] = field(default_factory=list)
    instances: list[np.ndarray] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records) + len(self.errors)


def format_of(key: str) -> str | None:
    """jsonl, csv or npy from the key's extension; None for anything else."""
    dot = key.rfind(".")
    return FORMATS.get(key[dot:].lower()) if dot >= 0 else None


def to_instance(values: Any, spec: TensorSpec, where: str) -> np.ndarray:
    """One instance, nested or flat, as the model's per-instance shape; raises RecordRejected."""
    try:
        array = json_to_array(values, spec.datatype, where)
    except ApiError as exc:
        raise RecordRejected(exc.message) from None
    shape = tuple(spec.shape[1:])
    if -1 in shape:
        if array.ndim != len(shape):
            raise RecordRejected(f"{where}: has shape {list(array.shape)}; expected {list(shape)} (-1: any size)")
        return array
    if array.size != math.prod(shape):
        raise RecordRejected(
            f"{where}: has {array.size} values; expected {math.prod(shape)} (shape {list(shape)}, nested or flat)"
        )
    return array.reshape(shape)


class _Lines:
    """Lines of a byte stream, each at most ``limit`` bytes; a longer one is skipped, not held in memory."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.number = 0

    def __iter__(self) -> Iterator[tuple[int, str | None, str | None]]:
        """(line number, text or None, reason when None) for every line, the last one unterminated or not."""
        while True:
            raw = self.stream.readline(self.limit + 1)
            if not raw:
                return
            self.number += 1
            if len(raw) > self.limit and not raw.endswith(b"\n"):
                self._skip_rest()
                yield self.number, None, f"line is longer than MAX_RECORD_BYTES ({self.limit} bytes)"
                continue
            if self.number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]  # a UTF-8 byte order mark, as spreadsheet exports write
            try:
                yield self.number, raw.decode("utf-8").rstrip("\r\n"), None
            except UnicodeDecodeError as exc:
                yield self.number, None, f"line is not valid UTF-8 (byte {exc.start}); files must be UTF-8"

    def _skip_rest(self) -> None:
        while True:
            piece = self.stream.readline(self.limit)
            if not piece or piece.endswith(b"\n"):
                return


def _jsonl_record(text: str, spec: TensorSpec, where: str) -> tuple[str | None, np.ndarray]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordRejected(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    if isinstance(value, dict):
        if "instance" not in value or not set(value) <= {"id", "instance"}:
            raise RecordRejected(f"{where}: an object needs 'instance' and may have 'id'; got keys {sorted(value)}")
        given = value.get("id")
        if given is not None and not isinstance(given, str | int):
            raise RecordRejected(f"{where}: 'id' must be a string or an integer")
        record_id = None if given is None else str(given)
        try:
            return record_id, to_instance(value["instance"], spec, where)
        except RecordRejected as exc:
            raise RecordRejected(str(exc), record_id) from None
    return None, to_instance(value, spec, where)


Parsed = tuple[int, str | None, np.ndarray] | RecordError


def chunked(items: Iterator[Parsed], chunk_records: int) -> Iterator[Chunk]:
    """Group parsed records, scorable (record, id, instance) or rejected, into chunks in file order."""
    chunk = Chunk()
    for item in items:
        if isinstance(item, RecordError):
            chunk.errors.append(item)
        else:
            chunk.records.append(item[0])
            chunk.ids.append(item[1])
            chunk.instances.append(item[2])
        if len(chunk) >= chunk_records:
            yield chunk
            chunk = Chunk()
    if len(chunk):
        yield chunk


def _attempt(record: int, line: int, parse: Callable[[], tuple[str | None, np.ndarray]]) -> Parsed:
    """The parsed record, or its RecordError when ``parse`` rejects it."""
    try:
        record_id, instance = parse()
    except RecordRejected as exc:
        return RecordError(record, line, exc.record_id, str(exc))
    return record, record_id, instance


def _jsonl_line(text: str | None, problem: str | None, spec: TensorSpec, where: str) -> tuple[str | None, np.ndarray]:
    if text is None:
        raise RecordRejected(f"{where}: {problem}")
    if not text.strip():
        raise RecordRejected(f"{where}: empty line; expected an instance")
    return _jsonl_record(text, spec, where)


Line = tuple[int, str | None, str | None]


def _jsonl_items(lines: list[Line], spec: TensorSpec) -> Iterator[Parsed]:
    for line, text, problem in lines:
        yield _attempt(line, line, partial(_jsonl_line, text, problem, spec, f"line {line}"))


def _whole_chunk(lines: list[Line], spec: TensorSpec) -> Chunk | None:
    """The chunk parsed in one go when every line is a plain array that fits, else None.

    One parse and one numpy conversion for the chunk instead of one per line, with the same checks
    (json_to_array) on the same values, so the result is what the line-by-line path gives; any doubt
    (an object, an empty or unreadable line, a conversion error, a count that is off) sends the chunk
    down that path, which finds and reports each bad line on its own.
    """
    inner = spec.shape[1:]
    texts = [text for _, text, _ in lines]
    if -1 in inner or any(text is None or not text.strip() or text.lstrip()[:1] != "[" for text in texts):
        return None
    try:  # pydantic-core's parser: the same values as json.loads for valid JSON, about 4x faster
        values = pydantic_core.from_json("[" + ",".join(texts) + "]")  # type: ignore[arg-type]
        array = json_to_array(values, spec.datatype, "chunk")
    except (ValueError, ApiError):
        return None
    if len(values) != len(lines) or array.shape[:1] != (len(lines),) or math.prod(array.shape[1:]) != math.prod(inner):
        return None
    numbers = [line for line, _, _ in lines]
    return Chunk(records=numbers, ids=[None] * len(lines), instances=list(array.reshape(len(lines), *inner)))


def read_jsonl(stream: IO[bytes], spec: TensorSpec, chunk_records: int, limit: int) -> Iterator[Chunk]:
    """JSON Lines: each line an instance (array) or {"id": ..., "instance": [...]}."""
    lines = iter(_Lines(stream, limit))
    while batch := list(islice(lines, chunk_records)):
        whole = _whole_chunk(batch, spec)
        yield whole if whole is not None else next(chunked(_jsonl_items(batch, spec), len(batch)))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class _CsvLayout:
    """Which columns hold the id and the features, learnt from the first row (a header has no numbers)."""

    def __init__(self, first: list[str]) -> None:
        self.header = bool(first) and not any(_is_number(cell) for cell in first)
        names = [cell.strip().lower() for cell in first] if self.header else []
        self.id_column = names.index("id") if "id" in names else None

    def split(
        self, cells: list[str], spec: TensorSpec, where: str, problem: str | None = None
    ) -> tuple[str | None, np.ndarray]:
        """The record's id and its instance; raises RecordRejected (with ``problem`` when reading failed)."""
        if problem is not None:
            raise RecordRejected(f"{where}: {problem}")
        if not cells:
            raise RecordRejected(f"{where}: empty line; expected a row of numbers")
        record_id = None
        if self.id_column is not None:
            if len(cells) <= self.id_column:
                raise RecordRejected(f"{where}: no value in the 'id' column (column {self.id_column + 1})")
            record_id = cells.pop(self.id_column)
        values = []
        for column, cell in enumerate(cells, start=1):
            try:
                values.append(float(cell))
            except ValueError:
                raise RecordRejected(f"{where}, column {column}: {cell[:40]!r} is not a number") from None
        return record_id, to_instance(values, spec, where)


def _csv_items(stream: IO[bytes], spec: TensorSpec, limit: int) -> Iterator[Parsed]:
    layout, record = None, 0
    for line, text, problem in _Lines(stream, limit):
        cells = next(csv.reader([text]), []) if text is not None else []
        if layout is None and cells:
            layout = _CsvLayout(cells)
            if layout.header:
                continue
        record += 1
        yield _attempt(record, line, partial((layout or _CsvLayout([])).split, cells, spec, f"line {line}", problem))


def read_csv(stream: IO[bytes], spec: TensorSpec, chunk_records: int, limit: int) -> Iterator[Chunk]:
    """CSV, one record per line; a first row without any number is a header, and its 'id' column the id."""
    return chunked(_csv_items(stream, spec, limit), chunk_records)
