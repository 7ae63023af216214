"""Score one S3 object: stream it in chunks through the model, then publish predictions, errors, summary.

Output keys are derived from the input key alone, so any re-delivery of any event for the same object
lands on the same keys (see docs/batch.md): ``input/a/b.csv`` under INPUT_PREFIX ``input/`` gives
``output/a/b.csv/predictions.csv``, ``.../errors.jsonl`` and ``.../summary.json``. Nothing is
uploaded until the whole file has been scored, each object appears whole or not at all, and the
summary goes last: it is the mark that the object (with this ETag, by this model version) is done,
which makes re-deliveries and schedules skip it. A crash or timeout before that leaves no summary,
so the next delivery scores the object again from the start and overwrites any partial outputs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from aws_lambda_powertools.metrics import MetricUnit

from handler.batch.chunk_scoring import score_chunk
from handler.batch.csv_records import read_csv
from handler.batch.generation_records import read_generation_jsonl
from handler.batch.image_records import IMAGE_FORMAT, read_image
from handler.batch.jsonl_records import read_jsonl
from handler.batch.label_counts import LabelCounts
from handler.batch.npy_records import read_npy
from handler.batch.output_keys import Outputs, outputs_for
from handler.batch.outputs import WRITERS, PredictionWriter, spool
from handler.batch.records import Carried, Chunk, FileRejected, ReadBounds, RecordError, format_of
from handler.batch.store import ObjectHead, ObjectRef, ObjectReplaced, ObjectStore
from handler.batch.table_records import read_table_csv, read_table_jsonl
from handler.columns import Column
from handler.dataplane import DataPlane
from handler.model import OnnxModel
from handler.observability import logger, metrics
from handler.settings import Settings
from handler.signature import TensorSpec

READERS: dict[str, Callable[[IO[bytes], TensorSpec, ReadBounds, Carried], Iterator[Chunk]]] = {
    "jsonl": read_jsonl,
    "csv": read_csv,
    "npy": lambda stream, spec, bounds, _: read_npy(stream, spec, bounds),
}
# A model with a column schema reads its columns by name; a .npy file has only positions.
TABLE_READERS: dict[str, Callable[[IO[bytes], Sequence[Column], ReadBounds, Carried], Iterator[Chunk]]] = {
    "jsonl": read_table_jsonl,
    "csv": read_table_csv,
}
# How many versions of one key an invocation scores in a row when the object keeps being replaced while it
# is scored; past that the invocation fails and the trigger's retry (or the next version's own event) goes on.
REPLACED_ATTEMPTS = 3


class OutOfTime(RuntimeError):
    """The invocation is about to time out; the object was left unpublished for a later run."""


@dataclass(frozen=True)
class Deadline:
    """Stop starting new work once less than ``margin_s`` of the invocation remains."""

    remaining_ms: Callable[[], int]
    margin_s: float

    def passed(self) -> bool:
        """True when there is no longer time for another chunk and the publishing after it."""
        return self.remaining_ms() < self.margin_s * 1000


@dataclass
class Tally:
    """Records in, scored and failed; in = scored + failed holds after every chunk."""

    scored: int = 0
    failed: int = 0
    file_error: str | None = None
    scored_s: float = 0.0
    labels: LabelCounts | None = None  # with BATCH_LABEL_COLUMN: what the metrics are made of

    @property
    def records_in(self) -> int:
        return self.scored + self.failed


def ndjson_line(value: dict[str, Any]) -> bytes:
    """One line of an errors (JSON Lines) object."""
    return (json.dumps(value, separators=(",", ":")) + "\n").encode("utf-8")


def summary_matches(summary: dict[str, Any] | None, head: ObjectHead, model: OnnxModel, label: str | None) -> bool:
    """True when a published summary covers this exact content, scored by this model and version, with the same
    label column (a summary without the label counts cannot be evaluated)."""
    if not summary:
        return False
    labels = summary.get("labels")
    return (
        summary.get("input", {}).get("etag") == head.etag
        and summary.get("model") == {"name": model.info.name, "version": model.info.version}
        and (labels.get("column") if isinstance(labels, dict) else None) == label
    )


def _unsupported(key: str) -> str:
    return f"{key!r}: unsupported file type; expected .jsonl, .ndjson, .csv or .npy (or, for an image model, {IMAGES})"


IMAGES = ".png, .jpg, .jpeg or .webp"


def _skipped(uri: str, reason: str) -> dict[str, Any]:
    return {"input": {"uri": uri}, "status": "skipped", "reason": reason}


@dataclass(frozen=True)
class ObjectScorer:
    """Everything scoring an object needs that does not change from one object to the next: the data plane runs
    the default model on each chunk."""

    plane: DataPlane
    settings: Settings
    store: ObjectStore
    deadline: Deadline

    @property
    def model(self) -> OnnxModel:
        """The model batch files are scored by: the default one."""
        return self.plane.find()

    def outputs(self, ref: ObjectRef, fmt: str | None) -> Outputs | None:
        """Where the object's outputs go: OUTPUT_BUCKET and the prefixes (the command line places them by --out)."""
        return outputs_for(ref, fmt, self.settings)

    def score(self, ref: ObjectRef, head: ObjectHead | None = None) -> dict[str, Any]:
        """Score one object unless it is done already; returns its summary; raises OutOfTime.

        ``head`` is what a listing already said of the object; without it, S3 is asked. The outputs must
        describe the object as it is once they are published: when it was replaced while being scored (a
        newer version's 412 on the pinned read, or another ETag by HEAD after the summary went up, since an
        older scoring may have just published over a newer one's outputs), the new version is scored at once.
        """
        fmt, uri = format_of(ref.key), self.store.uri(ref)
        outputs = self.outputs(ref, fmt)
        if outputs is None:
            return _skipped(uri, f"not under INPUT_PREFIX {self.settings.input_prefix!r}")
        if reason := outputs.too_long():
            return self._key_too_long(ref, outputs, reason)
        published = False
        for _ in range(REPLACED_ATTEMPTS):
            head = head or self.store.head(ref)
            if head is None:
                logger.warning("object no longer exists; nothing to score", extra={"object": uri})
                return _skipped(uri, "the object no longer exists")
            try:
                summary = self._score_version(ref, fmt, head, outputs, skip_done=not published)
            except ObjectReplaced:
                logger.info("object replaced while it was read; scoring the new version", extra={"object": uri})
                head = None
                continue
            if summary["status"] == "already-scored":
                return summary
            published, head = True, self.store.head(ref)
            if head is None or head.etag == summary["input"]["etag"]:
                return summary
            logger.info("object replaced while it was scored; scoring the new version", extra={"object": uri})
        raise ObjectReplaced(f"{uri} was replaced {REPLACED_ATTEMPTS} times while it was scored")

    def _key_too_long(self, ref: ObjectRef, outputs: Outputs, reason: str) -> dict[str, Any]:
        """Reject at once an object whose output keys S3 would refuse on every retry; the summary goes under
        a short key derived from the input key, so the rejection is still published and found."""
        summary = _skipped(self.store.uri(ref), reason) | {"status": "rejected", "file_error": reason}
        summary["records"] = {"in": 0, "scored": 0, "failed": 0}
        self.store.put_json(outputs.short_summary(ref.key), summary)
        logger.warning("object rejected: its output keys are too long", extra={"object": self.store.uri(ref)[:300]})
        return summary

    def _score_version(
        self, ref: ObjectRef, fmt: str | None, head: ObjectHead, outputs: Outputs, skip_done: bool
    ) -> dict[str, Any]:
        """Score the version ``head`` describes and publish its outputs, the summary last."""
        started = time.perf_counter()
        if skip_done:
            existing = self.store.read_json(outputs.summary)
            if summary_matches(existing, head, self.model, self.settings.batch_label_column):
                return {**(existing or {}), "status": "already-scored"}
        with spool() as errors:
            writer, tally = self._score_file(ref, fmt, head, errors)
            try:
                tally.scored_s = time.perf_counter() - started
                self.store.publish(outputs.predictions, writer.finish(), writer.content_type)
            finally:
                writer.file.close()
            errors.seek(0)
            self.store.publish(outputs.errors, errors, "application/x-ndjson")
        summary = self._summary(ref, head, outputs, tally, time.perf_counter() - started)
        self.store.put_json(outputs.summary, summary)
        metrics.add_metric(name="RecordsScored", unit=MetricUnit.Count, value=tally.scored)
        metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=tally.failed)
        logger.info("object scored", extra={"object": self.store.uri(ref), "records": summary["records"]})
        return summary

    def _score_file(
        self, ref: ObjectRef, fmt: str | None, head: ObjectHead, errors: IO[bytes]
    ) -> tuple[PredictionWriter, Tally]:
        if fmt is None:
            tally = Tally(file_error=_unsupported(ref.key))
            errors.write(ndjson_line(RecordError(None, None, None, str(tally.file_error)).as_json()))
            return WRITERS["jsonl"](self.model.info, Carried()), tally
        with self.store.open(ref, head) as stream:
            return self._score_stream(stream, fmt, errors, head.size)

    def _score_stream(
        self, stream: IO[bytes], fmt: str, errors: IO[bytes], size: int
    ) -> tuple[PredictionWriter, Tally]:
        settings, info = self.settings, self.model.info
        carried = Carried(settings.passthrough_columns(), settings.batch_label_column)
        writer = WRITERS[fmt](info, carried)
        tally = Tally(labels=LabelCounts(carried.label, info.task) if carried.label else None)
        bounds = ReadBounds(settings.batch_chunk_records, settings.batch_chunk_bytes, settings.max_record_bytes, size)
        try:
            for chunk in self._chunks(stream, fmt, bounds, carried):
                if self.deadline.passed():
                    raise OutOfTime("stopped before the invocation's time ran out; nothing was published")
                scored = score_chunk(self.plane, self.model, chunk)
                writer.write(scored.records, scored.ids, scored.results, scored.extras)
                if tally.labels is not None and scored.records:
                    tally.labels.add(
                        info, [extras.get(tally.labels.column) for extras in scored.extras], scored.results
                    )
                for error in sorted(chunk.errors, key=lambda item: item.record or 0):
                    errors.write(ndjson_line(error.as_json()))
                tally.scored += len(scored.records)
                tally.failed += sum(error.count for error in chunk.errors)
        except FileRejected as exc:
            tally.file_error = str(exc)
            errors.write(ndjson_line(RecordError(None, None, None, str(exc)).as_json()))
        except BaseException:
            writer.file.close()  # out of time or a fault: nothing of this object is published
            raise
        return writer, tally

    def _chunks(self, stream: IO[bytes], fmt: str, bounds: ReadBounds, carried: Carried) -> Iterator[Chunk]:
        """The file's chunks, read by column name for a model with a column schema, else by position; an image
        model's image object is one record."""
        image, columns, generator = self.model.info.image, self.model.info.columns, self.model.info.generator
        if generator is not None:
            if fmt != "jsonl":
                raise FileRejected(f"a .{fmt} object, but this model generates text: upload JSON Lines of requests")
            return read_generation_jsonl(stream, generator, bounds)
        if (fmt == IMAGE_FORMAT) != (image is not None):
            takes = f"takes images: upload {IMAGES} files" if image is not None else "does not take images"
            what = f"a .{fmt} object" if fmt != IMAGE_FORMAT else "an image object"
            raise FileRejected(f"{what}, but this model {takes}")
        if image is not None:
            return read_image(stream, image, bounds)
        if columns is None:
            return READERS[fmt](stream, self.model.info.inputs[0], bounds, carried)
        if fmt not in TABLE_READERS:
            names = ", ".join(column.name for column in columns)
            raise FileRejected(
                f"a .{fmt} file holds rows by position; this model takes named columns ({names}): send CSV with a "
                "header or JSON Lines objects"
            )
        return TABLE_READERS[fmt](stream, columns, bounds, carried)

    def _summary(
        self, ref: ObjectRef, head: ObjectHead, outputs: Outputs, tally: Tally, total_s: float
    ) -> dict[str, Any]:
        return {
            "status": "rejected" if tally.file_error else "scored",
            "input": {"uri": self.store.uri(ref), "etag": head.etag, "size": head.size, "format": format_of(ref.key)},
            "outputs": {"predictions": self.store.uri(outputs.predictions), "errors": self.store.uri(outputs.errors)},
            "model": {"name": self.model.info.name, "version": self.model.info.version},
            "records": {"in": tally.records_in, "scored": tally.scored, "failed": tally.failed},
            "file_error": tally.file_error,
            **({"labels": tally.labels.as_json()} if tally.labels is not None else {}),
            "timings_ms": {"read_and_score": round(tally.scored_s * 1000, 1), "total": round(total_s * 1000, 1)},
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
