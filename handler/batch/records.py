"""Input files as a stream of chunks of records (JSON Lines, CSV, .npy and tabular files beside it), never the whole
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
import math
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple

import numpy as np

from handler.codec import json_to_array
from handler.errors import RequestError
from handler.signature import TensorSpec

FORMATS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".npy": "npy",
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".webp"), "image"),  # one image a record (image models)
}


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


@dataclass(frozen=True)
class Carried:
    """The columns a file's records carry beside the model's inputs, passed through to the predictions:
    BATCH_PASSTHROUGH_COLUMNS (an id of one's own, a timestamp) and BATCH_LABEL_COLUMN (the true value)."""

    passthrough: tuple[str, ...] = ()
    label: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """Every carried column, the label last."""
        return tuple(dict.fromkeys([*self.passthrough, *([self.label] if self.label else [])]))


NOTHING_CARRIED = Carried()


@dataclass
class Chunk:
    """Consecutive records: the scorable ones (an instance each: an array, or a tabular record's values by
    column) with what they carry, the rest as errors."""

    records: list[int] = field(default_factory=list)
    ids: list[str | None] = field(default_factory=list)
    instances: list[Any] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    extras: list[dict[str, Any]] = field(default_factory=list)

    def add(self, item: Scorable) -> None:
        """Append one scorable record."""
        self.records.append(item.record)
        self.ids.append(item.id)
        self.instances.append(item.instance)
        self.extras.append(item.extras)

    def keep(self, kept: list[int]) -> None:
        """Keep only the scorable records at the positions ``kept`` (the others have become errors)."""
        self.records = [self.records[i] for i in kept]
        self.ids = [self.ids[i] for i in kept]
        self.instances = [self.instances[i] for i in kept]
        self.extras = [self.extras[i] for i in kept]

    def __len__(self) -> int:
        return len(self.records) + sum(error.count for error in self.errors)


def format_of(key: str) -> str | None:
    """jsonl, csv, npy or image from the key's extension; None for anything else."""
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


class Scorable(NamedTuple):
    """A record that was read: its number, its id, its instance and the columns it carries."""

    record: int
    id: str | None
    instance: Any
    extras: dict[str, Any]


Parsed = Scorable | RecordError
Parse = Callable[[], tuple[str | None, Any] | tuple[str | None, Any, dict[str, Any]]]


def attempt(record: int, line: int, where: str, parse: Parse) -> Parsed:
    """The parsed record, or its RecordError when ``parse`` rejects it or raises on what it reads; ``parse``
    gives the id and the instance, and the carried columns when the file has any."""
    try:
        parsed = parse()
    except RecordRejected as exc:
        return RecordError(record, line, exc.record_id, str(exc))
    except Exception as exc:  # any parser fault on a user's bytes is that record's failure
        return RecordError(record, line, None, unreadable(exc, where))
    return Scorable(record, parsed[0], parsed[1], parsed[2] if len(parsed) == 3 else {})


def chunked(items: Iterator[Parsed], bounds: ReadBounds) -> Iterator[Chunk]:
    """Group parsed records, scorable (record, id, instance) or rejected, into chunks in file order, each at
    most ``chunk_records`` records and ``chunk_bytes`` of decoded instances."""
    chunk, held = Chunk(), 0
    for item in items:
        if isinstance(item, RecordError):
            chunk.errors.append(item)
        else:
            chunk.add(item)
            held += item.instance.nbytes
        if len(chunk) >= bounds.chunk_records or held >= bounds.chunk_bytes:
            yield chunk
            chunk, held = Chunk(), 0
    if len(chunk):
        yield chunk
