"""A Distributed Map batch of image keys (ItemBatcher's ``{"Items": [...]}``) scored as one batch file.

Scoring an image at a time would cost three small objects per image (predictions, errors, summary) and one
inference each. A batch of images handed over by the map's ItemBatcher is read key by key, decoded, scored in
chunks of BATCH_CHUNK_RECORDS, and published as one JSON Lines file of ``{record, key, label, score,
probabilities}`` per batch, with its errors and a summary (records in = scored + failed, every key accounted
for), under ``OUTPUT_PREFIX/_image-batches/<digest>/``. The digest is of the batch's keys and ETags, so a retry of
the same batch lands on the same keys, and a batch already scored by this model version is skipped.

Why not schedules: a schedule lists a prefix that changes between runs, so batches cut from it would not line
up from one run to the next, and an image inserted in the middle would leave stale duplicate predictions in
older batch files; a schedule therefore scores each image object alone (as an S3 upload is), each with its own
done-mark, and the Distributed Map, whose batches its own execution fixes, is the way to score many at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from handler.batch.chunk_scoring import score_chunk
from handler.batch.image_records import image_record
from handler.batch.outputs import PredictionWriter, spool
from handler.batch.records import Carried, Chunk, RecordError, Scorable
from handler.batch.scoring import ObjectScorer, OutOfTime, ndjson_line
from handler.batch.store import ObjectHead, ObjectRef, ObjectReplaced
from handler.image_contract import ImageContract

BATCH_FOLDER = "_image-batches/"
KEY_COLUMN = "key"


@dataclass(frozen=True)
class ImageItem:
    """One image of the batch: where it is and, when the listing said, its ETag and size."""

    ref: ObjectRef
    head: ObjectHead | None


def batch_digest(items: Sequence[ImageItem]) -> str:
    """The batch's identity: its keys and ETags, in order."""
    text = "\n".join(f"{item.ref.uri}\t{item.head.etag if item.head else ''}" for item in items)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _read(scorer: ObjectScorer, item: ImageItem, contract: ImageContract, record: int) -> Scorable | RecordError:
    """One image of the batch, the version the listing named or, when it has been replaced since, the current one."""
    head = item.head
    for _ in range(2):
        head = head or scorer.store.head(item.ref)
        if head is None:
            return RecordError(record, None, None, f"record {record} ({item.ref.key[:200]}): no such object")
        try:
            with scorer.store.open(item.ref, head) as stream:
                return image_record(stream, contract, scorer.settings.batch_chunk_bytes, record, None)
        except ObjectReplaced:
            head = None
    raise ObjectReplaced(f"{scorer.store.uri(item.ref)} keeps being replaced while it is read")


def _chunks(scorer: ObjectScorer, items: Sequence[ImageItem], contract: ImageContract) -> Iterator[Chunk]:
    """The images, read and decoded, in chunks of BATCH_CHUNK_RECORDS; an image that cannot be read is its record's
    error."""
    size = scorer.settings.batch_chunk_records
    for start in range(0, len(items), size):
        chunk = Chunk()
        for offset, item in enumerate(items[start : start + size]):
            record, key = start + offset + 1, item.ref.key
            found = _read(scorer, item, contract, record)
            if isinstance(found, RecordError):
                chunk.errors.append(RecordError(found.record, None, None, found.reason))
            else:
                chunk.add(found._replace(extras={KEY_COLUMN: key}))
        yield chunk


@dataclass(frozen=True)
class BatchOutputs:
    """Where a batch's three objects go: under OUTPUT_PREFIX/_image-batches/<digest>/."""

    predictions: ObjectRef
    errors: ObjectRef
    summary: ObjectRef

    @classmethod
    def of(cls, bucket: str, prefix: str, digest: str) -> BatchOutputs:
        base = f"{prefix}{BATCH_FOLDER}{digest}/"
        names = ("predictions.jsonl", "errors.jsonl", "summary.json")
        return cls(*(ObjectRef(bucket, base + name) for name in names))


def _score(
    scorer: ObjectScorer, items: Sequence[ImageItem], writer: PredictionWriter, errors: IO[bytes]
) -> tuple[int, int]:
    """Every image into ``writer`` or ``errors`` (each error line names its key); (scored, failed)."""
    model = scorer.model
    assert model.info.image is not None, "only an image model scores image batches"
    scored = failed = 0
    for chunk in _chunks(scorer, items, model.info.image):
        if scorer.deadline.passed():
            raise OutOfTime("stopped before the invocation's time ran out; nothing of the batch was published")
        result = score_chunk(scorer.plane, model, chunk)
        writer.write(result.records, result.ids, result.results, result.extras)
        for error in chunk.errors:
            key = items[(error.record or 1) - 1].ref.key
            errors.write(ndjson_line(error.as_json() | {KEY_COLUMN: key}))
        scored += len(result.records)
        failed += sum(error.count for error in chunk.errors)
    return scored, failed


def score_image_batch(scorer: ObjectScorer, bucket: str, items: Sequence[ImageItem]) -> dict[str, Any]:
    """Score the batch and publish its three objects, the summary last; the summary, or the one already there."""
    info, digest = scorer.model.info, batch_digest(items)
    outputs = BatchOutputs.of(scorer.settings.output_bucket or bucket, scorer.settings.output_prefix, digest)
    identity = {"name": info.name, "version": info.version}
    existing = scorer.store.read_json(outputs.summary)
    if existing and existing.get("model") == identity and existing.get("input", {}).get("digest") == digest:
        return {**existing, "status": "already-scored"}
    writer = PredictionWriter(info, Carried((KEY_COLUMN,), None))
    with spool() as errors:
        try:
            scored, failed = _score(scorer, items, writer, errors)
            scorer.store.publish(outputs.predictions, writer.finish(), writer.content_type)
        finally:
            writer.file.close()
        errors.seek(0)
        scorer.store.publish(outputs.errors, errors, "application/x-ndjson")
    keys = {"images": len(items), "first": items[0].ref.key, "last": items[-1].ref.key, "digest": digest}
    summary = {
        "status": "scored",
        "input": {"bucket": bucket, **keys},
        "outputs": {"predictions": scorer.store.uri(outputs.predictions), "errors": scorer.store.uri(outputs.errors)},
        "model": identity,
        "records": {"in": scored + failed, "scored": scored, "failed": failed},
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    scorer.store.put_json(outputs.summary, summary)
    return summary
