""".npy input read a chunk of rows at a time: the header says how many rows and how wide, so nothing is
parsed and only BATCH_CHUNK_RECORDS rows are ever in memory.

Row i (from 0) is record i + 1. A row with NaN or Infinity is rejected alone; a file whose rows do not
fit the model, or whose dtype is not numeric, is rejected as a whole (every row would fail the same way).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import IO, Any

import numpy as np

from handler.batch.records import Chunk, FileRejected, RecordError
from handler.signature import DATATYPE_TO_NUMPY, TensorSpec


def _header(stream: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(stream)
        return np.lib.format.read_array_header_2_0(stream)
    except (ValueError, EOFError, SyntaxError) as exc:
        raise FileRejected(f"not a .npy file: {exc}") from None


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


def read_npy(stream: IO[bytes], spec: TensorSpec, chunk_records: int, limit: int) -> Iterator[Chunk]:
    """Rows of a C-order .npy as records; a truncated file fails its missing rows, each by number."""
    shape, fortran, dtype = _header(stream)
    instance = _row_shape(shape, dtype, fortran, spec)
    rows = shape[0]
    row_bytes = dtype.itemsize * math.prod(shape[1:])
    if row_bytes > limit:
        raise FileRejected(f".npy rows are {row_bytes} bytes; over MAX_RECORD_BYTES ({limit} bytes)")
    for first in range(0, rows, chunk_records):
        count = min(chunk_records, rows - first)
        data = stream.read(count * row_bytes)
        whole = len(data) // row_bytes
        block = np.frombuffer(data[: whole * row_bytes], dtype=dtype).reshape((whole, *instance))
        finite = np.isfinite(block.reshape(whole, -1)).all(axis=1) if dtype.kind == "f" else np.ones(whole, bool)
        block = block.astype(DATATYPE_TO_NUMPY[spec.datatype])
        chunk = Chunk()
        for offset in range(count):
            record = first + offset + 1
            if offset >= whole:
                chunk.errors.append(RecordError(record, None, None, f"row {record - 1}: the file ends before it"))
            elif not finite[offset]:
                chunk.errors.append(RecordError(record, None, None, f"row {record - 1}: holds NaN or Infinity"))
            else:
                chunk.records.append(record)
                chunk.ids.append(None)
                chunk.instances.append(block[offset])
        yield chunk
