"""Stores for ``onnx-lambda score``: local directories as buckets, S3 beside them, and a watching wrapper.

Each implements handler.batch.store.ObjectStore, so the Lambda's own ObjectScorer reads, scores and
publishes local files exactly as it does S3 objects. A local "bucket" is an absolute directory path
(``ObjectRef("/data/in", "a/b.csv")`` is /data/in/a/b.csv; LocalStore names it file:///data/in/a/b.csv). Files
appear whole, as S3 objects do: each is written beside its final name and renamed into place.
"""

from __future__ import annotations

import io
import json
import shutil
import stat
from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path
from typing import IO, Any

from handler.batch.store import READ_BUFFER_BYTES, ObjectHead, ObjectRef, ObjectStore, default_store
from handler.contract import write_atomic
from onnx_lambda.errors import InputError


def is_local(bucket: str) -> bool:
    """True for a bucket that is a local directory (no S3 bucket name starts with '/')."""
    return bucket.startswith("/")


class LocalStore:
    """Files under local directories; the ETag is size and modification time, as make and rsync judge change."""

    @staticmethod
    def path(ref: ObjectRef) -> Path:
        """The file an ObjectRef names."""
        return Path(ref.bucket) / ref.key

    def uri(self, ref: ObjectRef) -> str:
        """file:///directory/key."""
        return f"file://{ref.bucket.rstrip('/')}/{ref.key}"

    def head(self, ref: ObjectRef) -> ObjectHead | None:
        """The file's ETag and size, or None when there is no such regular file."""
        try:
            info = self.path(ref).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        return ObjectHead(etag=f'"{info.st_size:x}-{info.st_mtime_ns:x}"', size=info.st_size)

    def open(self, ref: ObjectRef, head: ObjectHead) -> IO[bytes]:
        """The file, if it is still the one listed; raises InputError if it changed meanwhile (S3 answers 412)."""
        if self.head(ref) != head:
            raise InputError(f"{self.path(ref)} changed or vanished after it was listed: run again")
        return open(self.path(ref), "rb", buffering=READ_BUFFER_BYTES)  # the caller closes it

    def read_json(self, ref: ObjectRef) -> dict[str, Any] | None:
        """A small JSON file as a dict, or None when absent or not a JSON object."""
        try:
            value = json.loads(self.path(ref).read_bytes())
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def publish(self, ref: ObjectRef, body: IO[bytes], content_type: str) -> None:
        """Write the whole file under a temporary name beside it, then rename it into place."""
        self._write(ref, lambda file: shutil.copyfileobj(body, file, READ_BUFFER_BYTES))

    def put_json(self, ref: ObjectRef, value: Any) -> None:
        """A small JSON file, written whole."""
        data = json.dumps(value, indent=2).encode("utf-8")
        self._write(ref, lambda file: file.write(data))

    def _write(self, ref: ObjectRef, fill: Callable[[IO[bytes]], object]) -> None:
        target = self.path(ref)
        try:
            write_atomic(target, fill)
        except OSError as exc:
            raise InputError(f"cannot write {target}: {exc.strerror or exc}") from None

    def list_objects(self, bucket: str, prefix: str) -> Iterator[tuple[ObjectRef, ObjectHead]]:
        """Every regular, non-hidden file under the directory whose relative path starts with ``prefix``, by key."""
        root = Path(bucket)
        keys = sorted(
            path.relative_to(root).as_posix()
            for path in root.rglob("*")
            if not any(part.startswith(".") for part in path.relative_to(root).parts)
        )
        for key in keys:
            ref = ObjectRef(bucket, key)
            head = self.head(ref) if key.startswith(prefix) else None
            if head is not None:
                yield ref, head


class RoutedStore:
    """Local directories to a LocalStore, buckets to the Lambda's own S3Store (boto3 from the environment)."""

    def __init__(self, local: LocalStore | None = None, s3: Callable[[], ObjectStore] = default_store) -> None:
        self.local = local or LocalStore()
        self._s3 = s3

    @cached_property
    def s3(self) -> ObjectStore:
        """The S3 store, made on first use: local runs never import boto3."""
        return self._s3()

    def _for(self, bucket: str) -> ObjectStore:
        return self.local if is_local(bucket) else self.s3

    def uri(self, ref: ObjectRef) -> str:
        return self._for(ref.bucket).uri(ref)

    def head(self, ref: ObjectRef) -> ObjectHead | None:
        return self._for(ref.bucket).head(ref)

    def open(self, ref: ObjectRef, head: ObjectHead) -> IO[bytes]:
        return self._for(ref.bucket).open(ref, head)

    def read_json(self, ref: ObjectRef) -> dict[str, Any] | None:
        return self._for(ref.bucket).read_json(ref)

    def publish(self, ref: ObjectRef, body: IO[bytes], content_type: str) -> None:
        self._for(ref.bucket).publish(ref, body, content_type)

    def put_json(self, ref: ObjectRef, value: Any) -> None:
        self._for(ref.bucket).put_json(ref, value)

    def list_objects(self, bucket: str, prefix: str) -> Iterator[tuple[ObjectRef, ObjectHead]]:
        return self._for(bucket).list_objects(bucket, prefix)


class CountingReader(io.RawIOBase):
    """A readable stream that reports how many bytes pass through it (for the progress bar)."""

    def __init__(self, source: IO[bytes], seen: Callable[[int], None]) -> None:
        self.source, self.seen = source, seen

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.source.read(len(buffer))
        buffer[: len(data)] = data
        self.seen(len(data))
        return len(data)

    def close(self) -> None:
        self.source.close()
        super().close()


class WatchedStore(RoutedStore):
    """The routed store, with every input stream counted and, with ``force``, no earlier summary found (so the
    scorer does not skip objects already scored with this content and model version)."""

    def __init__(self, seen: Callable[[int], None], force: bool, s3: Callable[[], ObjectStore] = default_store) -> None:
        super().__init__(s3=s3)
        self.seen, self.force = seen, force

    def open(self, ref: ObjectRef, head: ObjectHead) -> IO[bytes]:
        return io.BufferedReader(CountingReader(super().open(ref, head), self.seen), READ_BUFFER_BYTES)

    def read_json(self, ref: ObjectRef) -> dict[str, Any] | None:
        return None if self.force else super().read_json(ref)
