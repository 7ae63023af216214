"""In-process stand-ins for the batch path's unit tests: an object store in memory (handler.batch.store.ObjectStore),
a Lambda context whose remaining time the test sets, and a data plane serving small model files.

No S3, no moto, no clock: what the store holds, and when time runs out, is whatever the test says.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from handler.batch.store import ObjectHead, ObjectRef, ObjectReplaced
from handler.dataplane import DataPlane
from handler.repository import load_repository
from handler.settings import Settings
from tests.testkit import onnx_models


@dataclass(frozen=True)
class StoredObject:
    """One object's bytes and the ETag of this version."""

    data: bytes
    etag: str
    content_type: str


class MemoryStore:
    """Objects in a dict, keyed by (bucket, key); each write gets a new ETag, as a new S3 version does.

    ``writes`` lists the URIs written through the store (publish and put_json) in order; ``on_open`` and
    ``on_put_json``, when set, are called with the object's ref before it is opened and after a JSON object is
    written, so a test can replace an object mid-scoring or fail one object's read.
    """

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], StoredObject] = {}
        self.writes: list[str] = []
        self.on_open: Callable[[ObjectRef], None] | None = None
        self.on_put_json: Callable[[ObjectRef], None] | None = None
        self._versions = itertools.count(1)

    # --- what a test does to the bucket, outside the code under test ---

    def put(self, bucket: str, key: str, data: bytes, content_type: str = "application/octet-stream") -> ObjectHead:
        """Upload an object (a new version of it when it exists); not counted in ``writes``."""
        stored = StoredObject(data, f'"v{next(self._versions)}"', content_type)
        self.objects[(bucket, key)] = stored
        return ObjectHead(stored.etag, len(data))

    def read(self, bucket: str, key: str) -> bytes:
        """An object's bytes; KeyError when there is none."""
        return self.objects[(bucket, key)].data

    def json(self, bucket: str, key: str) -> Any:
        """An object's bytes as JSON."""
        return json.loads(self.read(bucket, key))

    def lines(self, bucket: str, key: str) -> list[Any]:
        """A JSON Lines object, one value a line."""
        return [json.loads(line) for line in self.read(bucket, key).splitlines()]

    def keys(self, bucket: str) -> list[str]:
        """Every key of the bucket, sorted."""
        return sorted(key for name, key in self.objects if name == bucket)

    # --- handler.batch.store.ObjectStore ---

    def uri(self, ref: ObjectRef) -> str:
        """As S3 names it: the store stands in for S3."""
        return ref.uri

    def head(self, ref: ObjectRef) -> ObjectHead | None:
        stored = self.objects.get((ref.bucket, ref.key))
        return None if stored is None else ObjectHead(stored.etag, len(stored.data))

    def open(self, ref: ObjectRef, head: ObjectHead) -> IO[bytes]:
        """The version ``head`` names; ObjectReplaced when the key now holds another (S3's 412 on IfMatch)."""
        if self.on_open is not None:
            self.on_open(ref)
        stored = self.objects.get((ref.bucket, ref.key))
        if stored is None or stored.etag != head.etag:
            raise ObjectReplaced(f"{self.uri(ref)} was replaced while it was read")
        return io.BytesIO(stored.data)

    def read_json(self, ref: ObjectRef) -> dict[str, Any] | None:
        stored = self.objects.get((ref.bucket, ref.key))
        if stored is None:
            return None
        try:
            value = json.loads(stored.data)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def publish(self, ref: ObjectRef, body: IO[bytes], content_type: str) -> None:
        self.put(ref.bucket, ref.key, body.read(), content_type)
        self.writes.append(self.uri(ref))

    def put_json(self, ref: ObjectRef, value: Any) -> None:
        self.put(ref.bucket, ref.key, json.dumps(value, indent=2).encode("utf-8"), "application/json")
        self.writes.append(self.uri(ref))
        if self.on_put_json is not None:
            self.on_put_json(ref)

    def list_objects(self, bucket: str, prefix: str) -> Iterator[tuple[ObjectRef, ObjectHead]]:
        """Every object under the prefix, in key order, as the listing was when it began."""
        listed = [(key, self.objects[(bucket, key)]) for key in self.keys(bucket) if key.startswith(prefix)]
        for key, stored in listed:
            yield ObjectRef(bucket, key), ObjectHead(stored.etag, len(stored.data))


@dataclass
class FixedContext:
    """The parts of Lambda's context the batch triggers read; the remaining time stays what the test sets."""

    remaining_ms: int = 900_000
    aws_request_id: str = "unit-test-request"
    function_name: str = "onnx-lambda-unit"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def plane_for(model_path: Path, **settings: Any) -> DataPlane:
    """A ready data plane serving ``model_path`` (a file, or a directory of models), loaded as INIT loads it."""
    return DataPlane(load_repository(Settings(model_path=model_path, **settings), "on-demand"))


def scaler_plane(folder: Path) -> DataPlane:
    """A data plane serving output = input * 2, float32 [batch, 3], as model 'scaler' version '1'."""
    return plane_for(onnx_models.scaler(folder / "scaler.onnx", factor=2.0))
