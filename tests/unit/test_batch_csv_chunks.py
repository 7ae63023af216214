"""GIVEN CSV files WHEN read whole (numpy's loadtxt over a chunk's lines) or line by line (the csv module and
float(), the fallback) THEN both give the same records, ids, carried columns, instances and errors: the whole
path only ever vouches for what the line-by-line path would accept, and any doubt sends the chunk line by
line, so every bad row is still reported alone with its line."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handler.batch import csv_records, records
from handler.batch.csv_records import read_csv
from handler.batch.records import Carried, ReadBounds
from handler.signature import TensorSpec

SPEC = TensorSpec("input", "FP32", (-1, 4), ("batch", None), "tensor(float)")
INT_SPEC = TensorSpec("input", "INT64", (-1, 4), ("batch", None), "tensor(int64)")
CARRIED = Carried(passthrough=("ts",), label="truth")
# Cells float() and loadtxt disagree on, or the csv module splits otherwise than on commas.
ODD_CELLS = ["1_0", "٣", "१२", "nan", "inf", "-Infinity", "1e400", " 2 ", "\t3", "", " ", "0x10", "1#2", "1d5", '"4"']
NUMBER_TEXT = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.sampled_from(ODD_CELLS),
    st.text(alphabet="0123456789.eE+-_ infa", max_size=6),
)


def read(text: str, spec: TensorSpec = SPEC, chunk: int = 3) -> list[records.Chunk]:
    stream = io.BytesIO(text.encode("utf-8", "surrogatepass"))
    return list(read_csv(stream, spec, ReadBounds(chunk, 1 << 30, 1 << 20), CARRIED))


def line_by_line(monkeypatch: pytest.MonkeyPatch, text: str, spec: TensorSpec = SPEC) -> list[records.Chunk]:
    with monkeypatch.context() as patch:
        patch.setattr(csv_records._CsvReader, "_whole", lambda self, lines: None)
        return read(text, spec)


def described(chunks: list[records.Chunk]) -> list[tuple[object, ...]]:
    """Everything a chunk holds, in comparable form (records in file order across chunks)."""
    return [
        (
            chunk.records,
            chunk.ids,
            chunk.extras,
            [(instance.dtype.str, instance.tolist()) for instance in chunk.instances],
            sorted((error.record, error.line, error.id, error.reason) for error in chunk.errors),
        )
        for chunk in chunks
    ]


@pytest.mark.parametrize("header", ["", "id,a,b,ts,c,d,truth\n", "a,b,c,d\n"], ids=["none", "id-carried", "plain"])
def test_a_clean_file_is_read_whole_and_equals_the_line_by_line_result(
    monkeypatch: pytest.MonkeyPatch, header: str
) -> None:
    width = 7 if header.startswith("id") else 4
    rows = [",".join(str(n * 10 + column) for column in range(width)) for n in range(7)]
    text = header + "\n".join(rows) + "\n"
    with monkeypatch.context() as patch:
        patch.setattr(csv_records._CsvReader, "_items", lambda self, lines: pytest.fail("read line by line"))
        whole = read(text)
    assert described(whole) == described(line_by_line(monkeypatch, text))
    assert sum(len(chunk.records) for chunk in whole) == 7
    if header.startswith("id"):
        assert whole[0].ids[0] == "0"
        assert whole[0].extras[0] == {"ts": "3", "truth": "6"}


@pytest.mark.parametrize("last", [False, True], ids=["inner", "last"])
@pytest.mark.parametrize("odd", ODD_CELLS)
def test_a_row_with_an_odd_cell_reads_as_it_does_line_by_line(
    monkeypatch: pytest.MonkeyPatch, odd: str, last: bool
) -> None:
    row = f"5,6,7,{odd}" if last else f"5,{odd},7,8"
    text = f"1,2,3,4\n{row}\n9,10,11,12\n"
    assert described(read(text)) == described(line_by_line(monkeypatch, text))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cells=st.lists(st.lists(NUMBER_TEXT, min_size=3, max_size=5), min_size=1, max_size=8),
    header=st.booleans(),
    integers=st.booleans(),
)
def test_any_drawn_file_reads_the_same_whole_and_line_by_line(
    monkeypatch: pytest.MonkeyPatch, cells: list[list[str]], header: bool, integers: bool
) -> None:
    text = ("a,b,c,d\n" if header else "") + "".join(",".join(row) + "\n" for row in cells)
    spec = INT_SPEC if integers else SPEC
    whole = read(text, spec)
    assert described(whole) == described(line_by_line(monkeypatch, text, spec))
    assert sum(len(chunk) for chunk in whole) == len(cells) - (not header and _is_header(",".join(cells[0])))


def _is_header(line: str) -> bool:
    """A first row without any number is a header, not a record (as the reader's layout decides)."""
    return csv_records._CsvLayout(next(csv.reader([line]))).header


def test_a_chunk_of_one_width_parses_to_float32_instances() -> None:
    [chunk] = read("1.5,2,3,4\n5,6,7,8.25\n")
    assert np.stack(chunk.instances).tolist() == [[1.5, 2, 3, 4], [5, 6, 7, 8.25]]
    assert np.stack(chunk.instances).dtype == np.float32
