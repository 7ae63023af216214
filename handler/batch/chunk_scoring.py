"""One chunk of a batch file through the data plane: its records as the model's feeds, one run, and each record
the model cannot take (or whose outputs JSON cannot carry) moved to the chunk's errors, so records in = scored
+ failed holds for every chunk.

A tabular record's values are checked by handler.columns, exactly as over HTTP; when one of them is refused,
each record is checked alone (no inference) and only the bad ones fail. A chunk the model itself fails on is
run record by record, each run measured by the data plane like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from handler.batch.records import Chunk, RecordError
from handler.columns import values_to_feeds
from handler.dataplane import DataPlane
from handler.errors import BadRequest
from handler.model import OnnxModel
from handler.predictions import finite_rows


@dataclass
class Scored:
    """A chunk's scored records: their numbers, ids and carried columns, and the model's outputs for them."""

    records: list[int] = field(default_factory=list)
    ids: list[str | None] = field(default_factory=list)
    results: dict[str, np.ndarray] = field(default_factory=dict)
    extras: list[dict[str, Any]] = field(default_factory=list)


def _in_record(records: Sequence[int], index: int, name: str) -> str:
    return f"record {records[index]}"


def feeds_of(model: OnnxModel, instances: Sequence[Any], records: Sequence[int]) -> dict[str, np.ndarray]:
    """The model's feeds for these instances: column values checked and typed, or arrays stacked."""
    if model.info.columns is not None:
        return values_to_feeds(instances, model.info.columns, partial(_in_record, records))
    if model.info.image is not None:  # decoded images, uint8 [height, width, channels] each
        return {model.info.image.input: model.info.image.to_tensor(np.stack(instances))}
    return {model.info.inputs[0].name: np.stack(instances)}


def _drop_refused(model: OnnxModel, chunk: Chunk) -> None:
    """Move each tabular record whose values the model refuses to the chunk's errors, checking each alone."""
    kept = []
    for position, (record, instance) in enumerate(zip(chunk.records, chunk.instances, strict=True)):
        try:
            feeds_of(model, [instance], [record])
        except BadRequest as exc:
            chunk.errors.append(RecordError(record, None, chunk.ids[position], exc.message))
            continue
        kept.append(position)
    chunk.keep(kept)


def _chunk_feeds(model: OnnxModel, chunk: Chunk) -> dict[str, np.ndarray] | None:
    """The feeds of the chunk's records that the model takes (None when there are none left)."""
    if model.info.columns is not None:
        try:
            return feeds_of(model, chunk.instances, chunk.records)
        except BadRequest:
            _drop_refused(model, chunk)
    return feeds_of(model, chunk.instances, chunk.records) if chunk.records else None


def score_chunk(plane: DataPlane, model: OnnxModel, chunk: Chunk) -> Scored:
    """Infer the chunk's instances as one batch; records the model cannot score join chunk.errors."""
    if not chunk.records:
        return Scored()
    if model.info.generator is not None:  # the instances are checked requests; the loop steps them together
        generated = [item["text"] for item in plane.generate(model, chunk.instances)]
        texts = {"text": np.array(generated, dtype=object)}
        return Scored(chunk.records, chunk.ids, texts, chunk.extras)
    try:
        feeds = _chunk_feeds(model, chunk)
        if feeds is None:
            return Scored()
        results = plane.run(model, feeds)
    except Exception:
        results = _one_by_one(plane, model, chunk)
        if not chunk.records:
            return Scored()
    keep = finite_rows(results)
    for index in np.flatnonzero(~keep).tolist():
        reason = f"record {chunk.records[index]}: the model's output holds NaN or Infinity"
        chunk.errors.append(RecordError(chunk.records[index], None, chunk.ids[index], reason))
    chunk.keep(np.flatnonzero(keep).tolist())
    return Scored(chunk.records, chunk.ids, {key: array[keep] for key, array in results.items()}, chunk.extras)


def _one_by_one(plane: DataPlane, model: OnnxModel, chunk: Chunk) -> dict[str, np.ndarray]:
    """Each instance alone; failures move to chunk.errors and the rest's results are concatenated."""
    kept, parts = [], []
    for position, (record, instance) in enumerate(zip(chunk.records, chunk.instances, strict=True)):
        try:
            parts.append(plane.run(model, feeds_of(model, [instance], [record])))
        except Exception as exc:
            reason = f"record {record}: the model failed: {exc}"
            chunk.errors.append(RecordError(record, None, chunk.ids[position], reason))
            continue
        kept.append(position)
    chunk.keep(kept)
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]} if parts else {}
