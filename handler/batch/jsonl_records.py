"""JSON Lines input: each line an instance (an array) or {"id": ..., "instance": [...], <carried column>: ...}.

A chunk of plain arrays is converted in one go; any doubt sends it line by line, so each bad line is found and
reported on its own (handler.batch.records says what a chunk is).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from functools import partial
from typing import IO, Any

import numpy as np
import pydantic_core

from handler.batch.records import (
    NOTHING_CARRIED,
    Carried,
    Chunk,
    Line,
    ReadBounds,
    RecordRejected,
    attempt,
    chunked,
    line_batches,
    read_lines,
    to_instance,
)
from handler.codec import json_to_array
from handler.signature import TensorSpec


def json_line(text: str | None, problem: str | None, where: str) -> Any:
    """One JSON Lines line's value; raises RecordRejected for an unreadable, empty or invalid line."""
    if text is None:
        raise RecordRejected(f"{where}: {problem}")
    if not text.strip():
        raise RecordRejected(f"{where}: empty line; expected an instance")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordRejected(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None


def record_id(value: dict[str, Any], where: str) -> str | None:
    """The id an object line gives, as text; raises RecordRejected for one that is neither text nor a number."""
    given = value.get("id")
    if given is not None and not isinstance(given, str | int):
        raise RecordRejected(f"{where}: 'id' must be a string or an integer")
    return None if given is None else str(given)


def _jsonl_record(
    text: str | None, problem: str | None, spec: TensorSpec, where: str, carried: Carried
) -> tuple[str | None, np.ndarray, dict[str, Any]]:
    value = json_line(text, problem, where)
    if not isinstance(value, dict):
        return None, to_instance(value, spec, where), {}
    if "instance" not in value or not set(value) <= {"id", "instance", *carried.names}:
        carries = "".join(f", {name!r}" for name in carried.names)
        raise RecordRejected(
            f"{where}: an object needs 'instance' and may have 'id'{carries}; got keys {sorted(value)[:10]}"
        )
    given = record_id(value, where)
    extras = {name: value.get(name) for name in carried.names}
    try:
        return given, to_instance(value["instance"], spec, where), extras
    except RecordRejected as exc:
        raise RecordRejected(str(exc), given) from None


def _line_by_line(lines: list[Line], spec: TensorSpec, bounds: ReadBounds, carried: Carried) -> Chunk:
    items = (
        attempt(n, n, f"line {n}", partial(_jsonl_record, text, problem, spec, f"line {n}", carried))
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
    instances = list(array.reshape(len(lines), *inner))
    return Chunk(records=numbers, ids=[None] * len(lines), instances=instances, extras=[{} for _ in lines])


def _array_line(text: str | None) -> Any:
    """One line's JSON array; ValueError for anything else (the line-by-line path then says what is wrong)."""
    if text is None or text.lstrip()[:1] != "[" or '"' in text:
        raise ValueError("not a plain array of numbers")  # strings would become a numpy array of 4 bytes a character
    return pydantic_core.from_json(text)


def read_jsonl(
    stream: IO[bytes], spec: TensorSpec, bounds: ReadBounds, carried: Carried = NOTHING_CARRIED
) -> Iterator[Chunk]:
    """JSON Lines: each line an instance (array) or {"id": ..., "instance": [...], <carried column>: ...}."""
    for batch in line_batches(read_lines(stream, bounds.record_bytes), bounds):
        whole = _whole_chunk(batch, spec)
        yield whole if whole is not None else _line_by_line(batch, spec, bounds, carried)
