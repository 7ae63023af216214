"""Image objects as batch records, for a model exported with an image contract (handler.image_contract).

An S3 upload of one image (.png, .jpg, .jpeg, .webp) is one record, scored as POST /predict scores the same
file, its prediction under the object's output folder like any other file's. A Distributed Map batch of image
keys (handler.batch.image_batches) reads each key as one record of a chunk, so a batch is scored in one run.
An image the decoder refuses (not an image, too many pixels, animated, 16-bit) is a failed record with the
decoder's own words; so is an object larger than BATCH_CHUNK_BYTES, which is not read past that.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from handler.batch.records import Chunk, ReadBounds, RecordError, Scorable
from handler.errors import RequestError
from handler.image_contract import ImageContract

IMAGE_FORMAT = "image"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def image_record(
    stream: IO[bytes], contract: ImageContract, limit: int, record: int, record_id: str | None
) -> Scorable | RecordError:
    """One image object as a scorable record (its decoded pixels), or the error saying why it cannot be one; an
    object over ``limit`` bytes is not read past it."""
    from handler.image_decoding import decode_image  # noqa: PLC0415 - Pillow, for image models only

    where = f"record {record}" if record_id is None else f"record {record} ({record_id[:200]})"
    data = stream.read(limit + 1)
    if len(data) > limit:
        return RecordError(record, None, record_id, f"{where}: the image is over BATCH_CHUNK_BYTES ({limit} bytes)")
    try:
        return Scorable(record, record_id, decode_image(data, contract, where), {})
    except RequestError as exc:
        return RecordError(record, None, record_id, exc.message)


def read_image(stream: IO[bytes], contract: ImageContract, bounds: ReadBounds) -> Iterator[Chunk]:
    """An image object: one chunk of one record."""
    chunk = Chunk()
    item = image_record(stream, contract, bounds.chunk_bytes, 1, None)
    if isinstance(item, RecordError):
        chunk.errors.append(item)
    else:
        chunk.add(item)
    yield chunk
