"""GIVEN JSON Lines chunks WHEN read whole (one parse per chunk) or line by line (the fallback) THEN both give
the same instances, and any line the whole-chunk parse cannot vouch for sends the chunk line by line, so
every bad record is still reported alone with its line."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from handler.batch import jsonl_records, records
from handler.batch.jsonl_records import read_jsonl
from handler.batch.records import ReadBounds
from handler.signature import TensorSpec

SPEC = TensorSpec("input", "FP32", (-1, 1, 8, 8), ("batch", None, None, None), "tensor(float)")
RNG = np.random.default_rng(7)


def jsonl(rows: list[str]) -> io.BytesIO:
    return io.BytesIO(("\n".join(rows) + "\n").encode())


def digits(count: int) -> list[str]:
    return [json.dumps(RNG.integers(0, 17, 64).tolist()) for _ in range(count)]


def read(rows: list[str], chunk: int = 4) -> list[records.Chunk]:
    return list(read_jsonl(jsonl(rows), SPEC, ReadBounds(chunk, 1 << 30, 1 << 20)))


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_a_clean_chunk_is_parsed_whole_and_equals_the_line_by_line_result(
    monkeypatch: pytest.MonkeyPatch, nested: bool
) -> None:
    rows = digits(7)
    if nested:
        rows = [json.dumps(np.array(json.loads(row)).reshape(1, 8, 8).tolist()) for row in rows]
    with monkeypatch.context() as patch:
        patch.setattr(
            jsonl_records, "_line_by_line", lambda lines, spec, bounds, carried: pytest.fail("parsed line by line")
        )
        whole = read(rows)
    monkeypatch.setattr(jsonl_records, "_whole_chunk", lambda lines, spec: None)
    line_by_line = read(rows)
    assert [c.records for c in whole] == [c.records for c in line_by_line] == [[1, 2, 3, 4], [5, 6, 7]]
    for fast, slow in zip(whole, line_by_line, strict=True):
        assert np.array_equal(np.stack(fast.instances), np.stack(slow.instances))
        assert np.stack(fast.instances).dtype == np.float32


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("[1, 2]", "has 2 values; expected 64"),
        ('{"id": "a", "instance": [1]}', "has 1 values; expected 64"),
        ("[1, 2], [3]", "invalid JSON"),
        ("", "empty line"),
        ('["x"' + ", 1" * 63 + "]", "expected numbers"),
        ("[NaN" + ", 1" * 63 + "]", "NaN or Infinity"),
        ("[1e999" + ", 1" * 63 + "]", "NaN or Infinity"),
    ],
)
def test_one_bad_line_is_reported_alone_and_its_neighbours_are_scored(bad: str, reason: str) -> None:
    rows = [*digits(2), bad, *digits(1)]
    [chunk] = read(rows)
    assert chunk.records == [1, 2, 4]
    assert [(e.record, e.line) for e in chunk.errors] == [(3, 3)]
    assert reason in chunk.errors[0].reason
    assert chunk.errors[0].id == ("a" if bad.startswith('{"id": "a"') else None)  # named as its sender names it
