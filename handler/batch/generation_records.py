"""A generator's batch file: JSON Lines of generation requests, one a line, scored like any other file.

A line is what /predict takes as an instance: ``{"start": "K", "temperature": 0.7, "max_length": 12, "seed": 7}``
(each optional, and an ``id`` of one's own) or the start text alone; its prediction is ``{"record", "id"?,
"text"}``. A request the generator refuses (a letter outside its vocabulary, a length past its limit) is that
record's failure, in /predict's words.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import IO, Any

from handler.batch.jsonl_records import json_line, record_id
from handler.batch.records import Chunk, ReadBounds, RecordRejected, line_batches, read_lines
from handler.batch.table_records import line_chunk
from handler.errors import BadRequest
from handler.generation import GenerationRequest, GeneratorContract, generation_request


def _request_row(
    contract: GeneratorContract, text: str | None, problem: str | None, where: str
) -> tuple[str | None, GenerationRequest, dict[str, Any]]:
    value = json_line(text, problem, where)
    given = record_id(value, where) if isinstance(value, dict) else None
    instance = {key: item for key, item in value.items() if key != "id"} if isinstance(value, dict) else value
    try:
        return given, generation_request(instance, contract, f"{where}: request"), {}
    except BadRequest as exc:
        raise RecordRejected(exc.message, given) from None


def read_generation_jsonl(stream: IO[bytes], contract: GeneratorContract, bounds: ReadBounds) -> Iterator[Chunk]:
    """The file's requests, in chunks bounded by records and bytes."""
    parse = partial(_request_row, contract)
    for batch in line_batches(read_lines(stream, bounds.record_bytes), bounds):
        yield line_chunk(batch, parse, batch[0].number)
