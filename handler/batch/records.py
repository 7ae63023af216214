"""Input files as a stream of chunks of records: JSON Lines here (CSV and .npy beside it), never the whole
file in memory.

Each record is checked on its own, so one bad line costs one record, not the file: a chunk carries the
instances that fit the model and, beside them, each rejected record with its number, line and reason.
Whatever a parser raises on a user's bytes (invalid JSON, nesting past the recursion limit, an integer past
Python's digit limit, a CSV cell past the csv module's field limit) is that record's failure. Records are
numbered from 1 in file order; for text files the line number is kept too (a CSV header is a line but not a
record). A chunk ends at BATCH_CHUNK_RECORDS records or BATCH_CHUNK_BYTES of input, whichever comes first,
so memory is bounded by bytes whatever the lines hold.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import IO, Any, NamedTuple

import numpy as np
import pydantic_core

from handler.codec import json_to_array
from handler.errors import RequestError
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
class ReadBounds:
    """How much of a file a reader may hold at once, and what it knows of the file's size."""

    chunk_records: int  # BATCH_CHUNK_RECORDS
    chunk_bytes: int  # BATCH_CHUNK_BYTES: input bytes (or decoded instance bytes) per chunk
    record_bytes: int  # MAX_RECORD_BYTES: one line, or one .npy row
    object_bytes: int | None = None  # the object's size by HEAD: a .npy header is checked against it


@dataclass(frozen=True)
class RecordError:
    """A record that was not scored, and why; ``count`` > 1 stands for a run of records that failed alike
    (the rows a .npy header promises but the object does not hold), reported as one line."""

    record: int | None  # None: the file itself failed before any record could be counted
    line: int | None
    id: str | None
    reason: str
    count: int = 1

    def as_json(self) -> dict[str, Any]:
        """The errors-object line for this record (with ``last_record`` for a run of records)."""
        value = {"record": self.record, "line": self.line, "id": self.id, "reason": self.reason}
        if self.count > 1 and self.record is not None:
            value["last_record"] = self.record + self.count - 1
        return value


@dataclass
class Chunk:
    """Consecutive records: the scorable ones stacked, the rest as errors."""

    records: list[int] = field(default_factory=list)
    ids: list[str | None] = field(default_factory=list)
    instances: list[np.ndarray] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records) + sum(error.count for error in self.errors)


def format_of(key: str) -> str | None:
    """jsonl, csv or npy from the key's extension; None for anything else."""
    dot = key.rfind(".")
    return FORMATS.get(key[dot:].lower()) if dot >= 0 else None


def to_instance(values: Any, spec: TensorSpec, where: str) -> np.ndarray:
    """One instance, nested or flat, as the model's per-instance shape; raises RecordRejected."""
    try:
        array = json_to_array(values, spec.datatype, where)
    except RequestError as exc:
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


class Line(NamedTuple):
    """One line of a text file: its text, or None and the reason it cannot be read; ``size`` in bytes."""

    number: int
    text: str | None
    problem: str | None
    size: int


def read_lines(stream: IO[bytes], limit: int) -> Iterator[Line]:
    """Every line, the last one unterminated or not; one longer than ``limit`` bytes is skipped unread
    (its length is known before anything is joined or parsed), so no line over the limit is ever held."""
    number = 0
    while raw := stream.readline(limit + 1):
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            skipped = _skip_rest(stream, limit)
            yield Line(number, None, f"line is longer than MAX_RECORD_BYTES ({limit} bytes)", len(raw) + skipped)
            continue
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a UTF-8 byte order mark, as spreadsheet exports write
        try:
            yield Line(number, raw.decode("utf-8").rstrip("\r\n"), None, len(raw))
        except UnicodeDecodeError as exc:
            yield Line(number, None, f"line is not valid UTF-8 (byte {exc.start}); files must be UTF-8", len(raw))


def _skip_rest(stream: IO[bytes], limit: int) -> int:
    skipped = 0
    while piece := stream.readline(limit):
        skipped += len(piece)
        if piece.endswith(b"\n"):
            break
    return skipped


def line_batches(lines: Iterable[Line], bounds: ReadBounds) -> Iterator[list[Line]]:
    """Consecutive lines, at most ``chunk_records`` of them and ``chunk_bytes`` of input (at least one line)."""
    batch: list[Line] = []
    held = 0
    for line in lines:
        if batch and (len(batch) >= bounds.chunk_records or held + line.size > bounds.chunk_bytes):
            yield batch
            batch, held = [], 0
        batch.append(line)
        held += line.size
    if batch:
        yield batch


def unreadable(exc: Exception, where: str) -> str:
    """Why a parser could not read a record, for whatever it raised on bytes a user uploaded."""
    if isinstance(exc, RecursionError):
        return f"{where}: nested too deeply to read (past Python's recursion limit); expected an instance"
    if isinstance(exc, ValueError) and "digits" in str(exc):
        limit = sys.get_int_max_str_digits()
        return f"{where}: holds an integer longer than {limit} digits (Python's limit for reading integers)"
    if isinstance(exc, csv.Error):
        return f"{where}: not a readable CSV row ({exc}; a cell may hold at most {csv.field_size_limit()} characters)"
    return f"{where}: cannot be read ({type(exc).__name__})"


Parsed = tuple[int, str | None, np.ndarray] | RecordError


def attempt(record: int, line: int, where: str, parse: Callable[[], tuple[str | None, np.ndarray]]) -> Parsed:
    """The parsed record, or its RecordError when ``parse`` rejects it or raises on what it reads."""
    try:
        record_id, instance = parse()
    except RecordRejected as exc:
        return RecordError(record, line, exc.record_id, str(exc))
    except Exception as exc:  # any parser fault on a user's bytes is that record's failure
        return RecordError(record, line, None, unreadable(exc, where))
    return record, record_id, instance


def chunked(items: Iterator[Parsed], bounds: ReadBounds) -> Iterator[Chunk]:
    """Group parsed records, scorable (record, id, instance) or rejected, into chunks in file order, each at
    most ``chunk_records`` records and ``chunk_bytes`` of decoded instances."""
    chunk, held = Chunk(), 0
    for item in items:
        if isinstance(item, RecordError):
            chunk.errors.append(item)
        else:
            chunk.records.append(item[0])
            chunk.ids.append(item[1])
            chunk.instances.append(item[2])
            held += item[2].nbytes
        if len(chunk) >= bounds.chunk_records or held >= bounds.chunk_bytes:
            yield chunk
            chunk, held = Chunk(), 0
    if len(chunk):
        yield chunk


def _jsonl_record(text: str | None, problem: str | None, spec: TensorSpec, where: str) -> tuple[str | None, np.ndarray]:
    if text is None:
        raise RecordRejected(f"{where}: {problem}")
    if not text.strip():
        raise RecordRejected(f"{where}: empty line; expected an instance")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordRejected(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(value, dict):
        return None, to_instance(value, spec, where)
    if "instance" not in value or not set(value) <= {"id", "instance"}:
        raise RecordRejected(f"{where}: an object needs 'instance' and may have 'id'; got keys {sorted(value)[:10]}")
    given = value.get("id")
    if given is not None and not isinstance(given, str | int):
        raise RecordRejected(f"{where}: 'id' must be a string or an integer")
    record_id = None if given is None else str(given)
    try:
        return record_id, to_instance(value["instance"], spec, where)
    except RecordRejected as exc:
        raise RecordRejected(str(exc), record_id) from None


def _line_by_line(lines: list[Line], spec: TensorSpec, bounds: ReadBounds) -> Chunk:
    items = (
        attempt(n, n, f"line {n}", partial(_jsonl_record, text, problem, spec, f"line {n}"))
        for n, text, problem, _ in lines
    )
    return next(chunked(items, ReadBounds(len(lines), sys.maxsize, bounds.record_bytes)))


def _whole_chunk(lines: list[Line], spec: TensorSpec) -> Chunk | None:
    """The chunk converted in one go when every line is on its own a plain array that fits, else None.

    Each line is parsed alone (pydantic-core's parser: the same values as json.loads for valid JSON, about 4x
    faster), so a record only ever comes from its own line; then one numpy conversion for the chunk instead
    of one per line, with the same checks (json_to_array). Any doubt (an object, an empty or unreadable line,
    a conversion error, a count that is off) sends the chunk down the line-by-line path, which finds and
    reports each bad line on its own.
    """
    inner = spec.shape[1:]
    if -1 in inner:
        return None
    try:
        values = [_array_line(line.text) for line in lines]
        array = json_to_array(values, spec.datatype, "chunk")
    except Exception:  # any doubt at all: the line-by-line path says what is wrong, line by line
        return None
    if array.shape[:1] != (len(lines),) or math.prod(array.shape[1:]) != math.prod(inner):
        return None
    numbers = [line.number for line in lines]
    return Chunk(records=numbers, ids=[None] * len(lines), instances=list(array.reshape(len(lines), *inner)))


def _array_line(text: str | None) -> Any:
    """One line's JSON array; ValueError for anything else (the line-by-line path then says what is wrong)."""
    if text is None or text.lstrip()[:1] != "[" or '"' in text:
        raise ValueError("not a plain array of numbers")  # strings would become a numpy array of 4 bytes a character
    return pydantic_core.from_json(text)


def read_jsonl(stream: IO[bytes], spec: TensorSpec, bounds: ReadBounds) -> Iterator[Chunk]:
    """JSON Lines: each line an instance (array) or {"id": ..., "instance": [...]}."""
    for batch in line_batches(read_lines(stream, bounds.record_bytes), bounds):
        whole = _whole_chunk(batch, spec)
        yield whole if whole is not None else _line_by_line(batch, spec, bounds)
