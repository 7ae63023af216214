""".npy input read a chunk of rows at a time: the header says how many rows and how wide, so nothing is
parsed and only a chunk of rows (BATCH_CHUNK_RECORDS rows, at most BATCH_CHUNK_BYTES) is ever in memory.

Row i (from 0) is record i + 1. A row with NaN or Infinity is rejected alone; a file whose rows do not
fit the model, or whose dtype is not numeric, is rejected as a whole (every row would fail the same way).
The header is not trusted: the rows it promises are checked against the object's size before anything is
read, and rows the body does not hold fail as one run of records (one errors line, each row counted), so a
128-byte file that claims a billion rows costs one line, not a billion.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import IO, Any

import numpy as np

from handler.batch.records import Chunk, FileRejected, ReadBounds, RecordError, Scorable
from handler.signature import DATATYPE_TO_NUMPY, TensorSpec


class _Counted:
    """A stream that counts what is read from it: numpy's header readers do not say where the data starts."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.consumed += len(data)
        return data


def _header(stream: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype[Any], int]:
    """Shape, Fortran order, dtype, and the header's length in bytes."""
    counted = _Counted(stream)
    try:
        version = np.lib.format.read_magic(counted)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read(counted)
    except Exception as exc:  # numpy parses the header with ast.literal_eval: anything a hostile one raises
        raise FileRejected(f"not a .npy file: {str(exc)[:200]}") from None
    return shape, fortran, dtype, counted.consumed


def _row_shape(shape: tuple[int, ...], dtype: np.dtype[Any], fortran: bool, spec: TensorSpec) -> tuple[int, ...]:
    """The per-record shape to reshape each row to; raises FileRejected when rows cannot fit the model."""
    if dtype.kind not in "biuf" or dtype.hasobject:
        raise FileRejected(f".npy dtype {dtype} is not numeric; expected a float or integer array")
    if fortran and len(shape) > 1:
        raise FileRejected(".npy array is in Fortran order; save it with np.save(np.ascontiguousarray(x))")
    if not shape:
        raise FileRejected(".npy holds a scalar; expected an array of records, one per row")
    instance = tuple(spec.shape[1:])
    width = math.prod(shape[1:])
    if -1 in instance or width != math.prod(instance):
        raise FileRejected(
            f".npy rows have shape {list(shape[1:])} ({width} values); expected {math.prod(instance)} values "
            f"per record (shape {list(instance)}, nested or flat)"
        )
    return instance


def _rows_held(rows: int, row_bytes: int, header_bytes: int, object_bytes: int | None) -> int:
    """How many of the rows the header promises the object can hold, by its size (all when it is not known)."""
    if object_bytes is None:
        return rows
    return min(rows, max(0, object_bytes - header_bytes) // row_bytes)


def _missing(first: int, rows: int, reason: str) -> RecordError:
    """Rows first+1 .. rows (records) as one run of failed records."""
    return RecordError(first + 1, None, None, f"rows {first}..{rows - 1}: {reason}", count=rows - first)


def read_npy(stream: IO[bytes], spec: TensorSpec, bounds: ReadBounds) -> Iterator[Chunk]:
    """Rows of a C-order .npy as records; rows the header promises but the body lacks fail as one run."""
    shape, fortran, dtype, header_bytes = _header(stream)
    instance = _row_shape(shape, dtype, fortran, spec)
    rows, row_bytes = shape[0], dtype.itemsize * math.prod(shape[1:])
    if row_bytes > bounds.record_bytes:
        raise FileRejected(f".npy rows are {row_bytes} bytes; over MAX_RECORD_BYTES ({bounds.record_bytes} bytes)")
    held = _rows_held(rows, row_bytes, header_bytes, bounds.object_bytes)
    per_chunk = max(1, min(bounds.chunk_records, bounds.chunk_bytes // row_bytes))
    for first in range(0, held, per_chunk):
        count = min(per_chunk, held - first)
        data = stream.read(count * row_bytes)
        whole = len(data) // row_bytes
        chunk = _rows_chunk(np.frombuffer(data[: whole * row_bytes], dtype=dtype), first, instance, spec)
        if whole < count:  # the body ended before the size HEAD gave: the rest fails as one run
            chunk.errors.append(_missing(first + whole, rows, "the file ends before them"))
            yield chunk
            return
        yield chunk
    if held < rows:
        size = f"{bounds.object_bytes} bytes hold {held} rows of {row_bytes} bytes after the {header_bytes}-byte header"
        yield Chunk(errors=[_missing(held, rows, f"the header promises {rows} rows but the object's {size}")])


def _rows_chunk(flat: np.ndarray, first: int, instance: tuple[int, ...], spec: TensorSpec) -> Chunk:
    """Rows first+1.. as records: finite ones to score, the others rejected by number."""
    block = flat.reshape((-1, *instance))
    whole = len(block)
    finite = np.isfinite(block.reshape(whole, -1)).all(axis=1) if flat.dtype.kind == "f" else np.ones(whole, bool)
    block = block.astype(DATATYPE_TO_NUMPY[spec.datatype])
    chunk = Chunk()
    for offset in range(whole):
        record = first + offset + 1
        if finite[offset]:
            chunk.add(Scorable(record, None, block[offset], {}))
        else:
            chunk.errors.append(RecordError(record, None, None, f"row {record - 1}: holds NaN or Infinity"))
    return chunk
