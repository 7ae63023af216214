"""Files a user can upload that used to lose records or fail whole, through the real entry point against moto:
whatever a parser raises on one record is that record's failure, lines are never merged, .npy headers are not
trusted, and memory is bounded by bytes. Each case failed on the main of issue 15."""

from __future__ import annotations

import csv
import io
import sys
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from tests.testkit.aws import Aws, batch_context
from tests.testkit.batch_inputs import DEEP_LINE, digit_lines, published, s3_event

Entry = Callable[[dict[str, Any], Any], dict[str, Any]]


def zeros(count: int) -> str:
    return ",".join(["0"] * count)


HOSTILE_LINES = {
    "nested past the recursion limit": (DEEP_LINE, "nested too deeply to read"),
    "an integer of 5000 digits": (b"[" + b"7" * 5000 + b"," + zeros(63).encode() + b"]", "longer than 4300 digits"),
    "an id of 5000 digits": (b'{"id": ' + b"9" * 5000 + b', "instance": [' + zeros(64).encode() + b"]}", "digits"),
    "an object nested past the limit": (b'{"id": "a", "instance": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "deeply"),
}


@pytest.mark.parametrize("case", HOSTILE_LINES)
def test_a_line_no_parser_can_read_fails_alone_and_its_neighbours_are_scored(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray], case: str
) -> None:
    line, reason = HOSTILE_LINES[case]
    good = digit_lines(digits[0][:4])
    aws.put("input/digits.jsonl", b"\n".join([good[0], good[1], line, good[2], good[3]]) + b"\n")
    response = entry(s3_event("input/digits.jsonl"), batch_context())
    predictions, errors, summary = published(aws, "input/digits.jsonl")
    assert [row["record"] for row in predictions] == [1, 2, 4, 5]
    assert [(error["record"], error["line"]) for error in errors] == [(3, 3)]
    assert errors[0]["reason"].startswith("line 3: ")
    assert reason in errors[0]["reason"]
    assert summary["records"] == {"in": 5, "scored": 4, "failed": 1}
    assert response["objects"][0]["status"] == "scored"
    assert sys.get_int_max_str_digits() == 4300  # the limit the reasons quote


def test_lines_that_are_each_invalid_are_never_merged_into_records(aws: Aws, entry: Entry) -> None:
    # Joined with commas inside [...], these three lines are three valid [1, 8, 8] instances; alone, none is
    # JSON, though each starts as an array does.
    row = f"[{zeros(8)}]"
    lines = [
        "[[" + ",".join([row] * 4),
        ",".join([row] * 4) + "]],[[" + ",".join([row] * 8) + "]],[[" + ",".join([row] * 2),
        ",".join([row] * 6) + "]]",
    ]
    aws.put("input/merged.jsonl", ("\n".join(lines) + "\n").encode())
    entry(s3_event("input/merged.jsonl"), batch_context())
    predictions, errors, summary = published(aws, "input/merged.jsonl")
    assert predictions == []
    assert [error["record"] for error in errors] == [1, 2, 3]
    assert all("invalid JSON" in error["reason"] for error in errors)
    assert summary["records"] == {"in": 3, "scored": 0, "failed": 3}


def test_a_csv_cell_past_the_csv_field_limit_fails_its_record_only(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    rows = [",".join(str(int(v)) for v in image.ravel()) for image in digits[0][:3]]
    rows.insert(1, "1" * (csv.field_size_limit() + 10) + "," + zeros(63))
    aws.put("input/digits.csv", ("\n".join(rows) + "\n").encode())
    entry(s3_event("input/digits.csv"), batch_context())
    _, errors, summary = published(aws, "input/digits.csv")
    assert [(error["record"], error["line"]) for error in errors] == [(2, 2)]
    assert "not a readable CSV row" in errors[0]["reason"]
    assert summary["records"] == {"in": 4, "scored": 3, "failed": 1}


def npy_claiming(rows: int, x: np.ndarray) -> bytes:
    """A .npy whose header says ``rows`` rows of x's row shape, followed by x's rows only."""
    out = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(x.dtype), "fortran_order": False, "shape": (rows, *x.shape[1:])}
    np.lib.format.write_array_header_1_0(out, header)
    return out.getvalue() + np.ascontiguousarray(x).tobytes()


def test_a_npy_header_promising_more_rows_than_the_object_holds_fails_the_missing_rows_as_one_line(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    aws.put("input/lying.npy", npy_claiming(1_000_000_000, digits[0][:3].astype(np.float32)))
    entry(s3_event("input/lying.npy"), batch_context())
    _, errors, summary = published(aws, "input/lying.npy")
    assert summary["records"] == {"in": 1_000_000_000, "scored": 3, "failed": 999_999_997}
    assert len(errors) == 1
    assert (errors[0]["record"], errors[0]["last_record"]) == (4, 1_000_000_000)
    assert "the header promises 1000000000 rows" in errors[0]["reason"]


def test_a_npy_cut_off_mid_row_scores_every_whole_row_and_fails_the_rest_as_one_run(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    rows = np.resize(digits[0].astype(np.float32), (2100, 1, 8, 8))  # more than one chunk of 2,048 rows
    whole = npy_claiming(2100, rows)
    aws.put("input/cut.npy", whole[: len(whole) - 49 * 256 - 100])  # 50 rows and 100 bytes short
    entry(s3_event("input/cut.npy"), batch_context())
    _, errors, summary = published(aws, "input/cut.npy")
    assert summary["records"] == {"in": 2100, "scored": 2050, "failed": 50}
    assert [(error["record"], error["last_record"]) for error in errors] == [(2051, 2100)]
    assert "rows 2050..2099: the header promises 2100 rows" in errors[0]["reason"]


def test_a_chunk_holds_bytes_not_a_count_of_long_lines(aws: Aws, entry: Entry) -> None:
    # 96 lines of 900 KB each (under MAX_RECORD_BYTES, each rejected: strings, not numbers): 2,048 of them
    # made one chunk, held and parsed whole; BATCH_CHUNK_BYTES (8 MiB) bounds what a chunk holds instead.
    line = b'["' + b"x" * 900_000 + b'"]'
    aws.put("input/long.jsonl", b"\n".join([line] * 96) + b"\n")
    tracemalloc.start()
    try:
        entry(s3_event("input/long.jsonl"), batch_context())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    _, errors, summary = published(aws, "input/long.jsonl")
    assert summary["records"] == {"in": 96, "scored": 0, "failed": 96}
    assert {error["reason"] for error in errors} == {
        f"line {n}: expected numbers for datatype FP32, got strings" for n in range(1, 97)
    }
    assert peak < 48 * 1024 * 1024, f"peak Python allocations {peak / 2**20:.0f} MiB for an 86 MiB file"
