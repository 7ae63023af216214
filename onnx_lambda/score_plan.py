"""What ``onnx-lambda score`` scores and where its outputs go, and the Lambda's scorer placing them there.

Sources and --out are local paths or s3:// URIs; a local directory is a "bucket" named by its absolute
path (onnx_lambda.stores). Outputs keep the Lambda's layout: for an input key K relative to the scored
prefix, ``OUT/K/predictions.<ext>``, ``OUT/K/errors.jsonl`` and ``OUT/K/summary.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from handler.batch.output_keys import Outputs, outputs_under
from handler.batch.records import format_of
from handler.batch.scoring import ObjectScorer
from handler.batch.store import ObjectHead, ObjectRef, ObjectStore
from onnx_lambda.errors import InputError
from onnx_lambda.stores import is_local

SUPPORTED = ".jsonl, .ndjson, .csv or .npy"


@dataclass(frozen=True)
class Location:
    """A bucket (or a directory, by absolute path) and a key prefix ('' or ending in '/'), or one key in it."""

    bucket: str
    prefix: str
    key: str | None = None

    @property
    def uri(self) -> str:
        """How to show it: s3://bucket/prefix or the directory's path."""
        if is_local(self.bucket):
            return str(Path(self.bucket, self.key or self.prefix))
        return f"s3://{self.bucket}/{self.key or self.prefix}"


def _s3(text: str, what: str) -> tuple[str, str]:
    bucket, _, key = text.removeprefix("s3://").partition("/")
    if not bucket:
        raise InputError(f"{what} {text!r} names no bucket: expected s3://bucket/prefix")
    return bucket, key


def source_location(text: str) -> Location:
    """SOURCE as a Location: a local file or directory, or s3://bucket[/key-or-prefix]; raises InputError."""
    if text.startswith("s3://"):
        bucket, key = _s3(text, "SOURCE")
        return Location(bucket, key) if not key or key.endswith("/") else Location(bucket, "", key)
    path = Path(text).resolve()
    if path.is_file():
        return Location(str(path.parent), "", path.name)
    if path.is_dir():
        return Location(str(path), "")
    raise InputError(f"{text} is not a file, a directory or an s3:// URI")


def out_location(text: str) -> Location:
    """--out as a Location: a local directory (made when needed) or s3://bucket/prefix/."""
    if text.startswith("s3://"):
        bucket, prefix = _s3(text, "--out")
        return Location(bucket, prefix if not prefix or prefix.endswith("/") else prefix + "/")
    return Location(str(Path(text).resolve()), "")


def _within(inner: Location, outer: Location) -> bool:
    if inner.bucket == outer.bucket:
        return inner.prefix.startswith(outer.prefix)
    return is_local(inner.bucket) and is_local(outer.bucket) and Path(inner.bucket).is_relative_to(outer.bucket)


def check_apart(source: Location, out: Location) -> None:
    """Refuse an --out whose outputs would be scored as inputs by the next run, or overwrite the input."""
    if source.key is None and _within(out, source):
        raise InputError(f"--out {out.uri} is inside {source.uri}, which is scored: its outputs would be scored too")
    if source.key is not None and source.bucket == out.bucket and out.prefix == source.prefix:
        raise InputError(f"--out {out.uri} is where {source.uri} is: give another directory or prefix")


def _one(store: ObjectStore, source: Location, key: str) -> list[tuple[ObjectRef, ObjectHead]]:
    ref = ObjectRef(source.bucket, key)
    head = store.head(ref)
    if head is None:
        raise InputError(f"{store.uri(ref)} does not exist")
    if format_of(key) is None:
        raise InputError(f"{source.uri}: unsupported file type; expected {SUPPORTED}")
    return [(ref, head)]


def plan(store: ObjectStore, source: Location) -> tuple[Location, list[tuple[ObjectRef, ObjectHead]], int]:
    """The prefix outputs are placed relative to, the objects to score, and how many others were passed over.

    An s3:// key that is not an object is taken as a prefix (``key/``). Raises InputError when nothing is left.
    """
    if source.key is not None:
        parent = str(PurePosixPath(source.key).parent)
        prefix = "" if parent == "." else parent + "/"
        if is_local(source.bucket) or store.head(ObjectRef(source.bucket, source.key)) is not None:
            return Location(source.bucket, prefix, source.key), _one(store, source, source.key), 0
        source = Location(source.bucket, source.key + "/")
    listed = list(store.list_objects(source.bucket, source.prefix))
    chosen = [(ref, head) for ref, head in listed if format_of(ref.key) is not None]
    if not chosen:
        raise InputError(f"nothing to score under {source.uri}: no {SUPPORTED} files")
    return source, chosen, len(listed) - len(chosen)


@dataclass(frozen=True)
class PlacedScorer(ObjectScorer):
    """The Lambda's ObjectScorer with the outputs under --out rather than OUTPUT_BUCKET/OUTPUT_PREFIX."""

    source: Location = Location("", "")
    out: Location = Location("", "")

    def outputs(self, ref: ObjectRef, fmt: str | None) -> Outputs | None:
        """OUT/<key relative to the source prefix>/predictions.<ext>, errors.jsonl, summary.json."""
        return outputs_under(ref, fmt, self.source.prefix, self.out.bucket, self.out.prefix)
