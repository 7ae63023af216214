"""GIVEN a CSV for a model taking named columns WHEN a text cell is quoted across line breaks, or a quote is never
closed THEN the quoted cell is one record numbered by its first line, as the csv module reads it, and an unclosed
quote is one refused record at MAX_RECORD_BYTES, after which reading goes on."""

from __future__ import annotations

import io

from handler.batch.records import read_lines
from handler.batch.table_records import quoted_records


def _records(text: bytes, limit: int = 1000) -> list[tuple[int, str | None, str | None]]:
    return [
        (line.number, line.text, line.problem) for line in quoted_records(read_lines(io.BytesIO(text), limit), limit)
    ]


def test_a_quoted_cell_across_line_breaks_is_one_record_numbered_by_its_first_line() -> None:
    text = b'id,text\nr1,"a review\nover ""three""\nlines"\nr2,plain\n'
    assert _records(text) == [
        (1, "id,text", None),
        (2, 'r1,"a review\nover ""three""\nlines"', None),
        (5, "r2,plain", None),
    ]


def test_a_quote_never_closed_is_refused_at_the_record_limit_and_reading_goes_on() -> None:
    text = b'id,text\nr1,"never closed\n' + b"x" * 40 + b"\n" + b"y" * 40 + b"\nr9,fine\n"
    records = _records(text, limit=60)
    assert records[1][0:2] == (2, None)
    assert "a quoted cell runs past MAX_RECORD_BYTES (60 bytes)" in str(records[1][2])
    assert records[-1] == (5, "r9,fine", None)
