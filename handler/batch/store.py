"""The S3 calls the batch path makes, in one place: look, read as a stream, publish whole, list.

boto3 comes with the Lambda Python base image, so it is not one of our runtime dependencies; it is
imported the first time a batch event needs it, so HTTP cold starts never pay for it. The endpoint
follows boto3's own configuration (``AWS_ENDPOINT_URL_S3``), which is how the tests reach moto.

Transient faults are retried at two levels. botocore retries every call itself (``CLIENT_RETRIES``):
5xx answers, throttling and connections dropped before an answer, with exponential backoff and jitter.
What botocore cannot retry is a response that breaks mid-body, since the call already returned: the
input object is therefore read through ``ResumableBody``, which makes Powertools' S3Object continue at the
first unread byte with a Range GET pinned to the same ETag. Anything that outlasts both propagates, and
since outputs are only published once the whole file is scored (see scoring.py), the trigger's own retry
starts over cleanly.
"""

from __future__ import annotations

import io
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import IO, TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote_plus

from handler.observability import logger

if TYPE_CHECKING:  # Powertools' streaming imports boto3: only S3Store.open needs it, at first use
    from aws_lambda_powertools.utilities.streaming import S3Object

READ_BUFFER_BYTES = 1024 * 1024
S3_KEY_BYTES = 1024  # S3's limit on an object key, in bytes of its UTF-8 encoding
MULTIPART_BYTES = 8 * 1024 * 1024  # parts this size: S3's 10,000-part limit allows outputs up to 80 GB
# botocore's "standard" retry mode (the one every AWS SDK shares): 500/502/503/504, throttling codes
# (S3's 503 SlowDown) and connection errors are retried with truncated exponential backoff and full
# jitter: base 50 ms for transient errors, 1 s for throttling, at most 20 s a wait. Five attempts in all
# (the mode's default is three) ride out S3's SlowDown while a prefix scales (waits <= 1 + 2 + 4 + 8 s) yet
# give up within the batch time margin when S3 is really down; then the trigger's own retry takes over.
# The client-wide retry quota of standard mode stops retry storms when everything fails at once.
# Note botocore's own "max_attempts" key counts retries, not attempts: "total_max_attempts" is the total.
MAX_ATTEMPTS = 5
# botocore's defaults are 60 s each, so a black-holed connection would stall a whole invocation; S3
# connects in milliseconds and starts answering well within a second, so these only cut off dead peers.
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 10.0
# A break mid-body of the input is resumed by ResumableBody; this many breaks in a row without a byte of
# progress fail the file, after waits of full jitter up to 0.2, 0.4, 0.8, 1.6 s.
STREAM_ATTEMPTS = 5
STREAM_BACKOFF_S = 0.2


@dataclass(frozen=True)
class ObjectRef:
    """An object by bucket and (decoded) key. What the pair names is its store's business (``ObjectStore.uri``):
    an S3 object here; the command line's store (onnx_lambda.stores) also keeps local directories as buckets."""

    bucket: str
    key: str

    @property
    def uri(self) -> str:
        """s3://bucket/key: the object as S3 names it."""
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class ObjectHead:
    """What HEAD says of an object: the ETag pins the exact content that gets scored."""

    etag: str
    size: int


def decoded_key(key: str) -> str:
    """S3 event notifications URL-encode keys (a space arrives as '+'); the API wants them decoded."""
    return unquote_plus(key)


def parse_s3_uri(uri: str) -> ObjectRef:
    """s3://bucket/key as an ObjectRef; raises ValueError naming what is wrong."""
    if not uri.startswith("s3://") or "/" not in uri[5:] or uri.endswith("/"):
        raise ValueError(f"{uri!r} is not an S3 object URI; expected s3://bucket/key")
    bucket, key = uri[5:].split("/", 1)
    return ObjectRef(bucket, key)


class ObjectReplaced(RuntimeError):
    """The object got a new version while this one was being read or scored (S3's 412 on the pinned GET)."""


class BodyEndedEarly(ConnectionError):
    """A response body ended before the object's size without the HTTP layer noticing."""


def _stream_errors() -> tuple[type[Exception], ...]:
    """What reading a response body raises when the connection breaks or stalls mid-body: botocore wraps
    urllib3's errors as ResponseStreamingError / ReadTimeoutError (HTTPClientErrors) and reports a body
    that ended early as IncompleteReadError."""
    from botocore.exceptions import (  # type: ignore[import-untyped]  # noqa: PLC0415 - see the module docstring
        HTTPClientError,
        IncompleteReadError,
    )

    return (HTTPClientError, IncompleteReadError, BodyEndedEarly)


def _precondition_failed(exc: Exception) -> bool:
    """True for S3's answer to a GET pinned by IfMatch to an ETag the key no longer has."""
    response = getattr(exc, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return code in {"PreconditionFailed", "412"}


class ResumableBody(io.RawIOBase):
    """One object version as a raw stream for io.BufferedReader, resumed at the first unread byte after a break.

    Powertools' S3Object does the streaming: a GET pinned by IfMatch to the ETag being scored, reopened with a
    Range GET from its position whenever that position moves. botocore retries a call until its response
    begins, not a body that breaks off later, and S3Object does not retry either; this layer adds that: after
    a break it backs off and moves S3Object's position away and back, so the next read continues exactly where
    the parser stopped: no byte is lost, repeated or taken from a newer version (S3 answers 412 if the object
    changed: ObjectReplaced, and scoring moves on to the new version). What outlasts STREAM_ATTEMPTS propagates.
    """

    def __init__(self, source: S3Object, head: ObjectHead, uri: str) -> None:
        self.source, self.head, self.uri = source, head, uri
        self._errors = _stream_errors()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill from the current response; after a break, back off and resume, STREAM_ATTEMPTS times in a row."""
        failures = 0
        while True:
            try:
                data = self.source.read(len(buffer))
                if not data and len(buffer) and self.source.tell() < self.head.size:
                    raise BodyEndedEarly(f"{self.uri}: the body ended at byte {self.source.tell()} of {self.head.size}")
            except self._errors as exc:
                failures += 1
                self._resume(exc, failures)
                continue
            except Exception as exc:
                if _precondition_failed(exc):
                    raise ObjectReplaced(f"{self.uri} was replaced while it was read") from None
                raise
            buffer[: len(data)] = data
            return len(data)

    def _resume(self, exc: Exception, failures: int) -> None:
        """Re-raise once STREAM_ATTEMPTS breaks came in a row; else back off and make S3Object reopen."""
        position = self.source.tell()
        where = {"object": self.uri, "offset": position, "attempt": failures, "error": type(exc).__name__}
        if failures >= STREAM_ATTEMPTS:
            logger.error("input stream failed; giving up on this delivery", extra=where)
            raise exc
        logger.warning("input stream broke; resuming", extra=where)
        time.sleep(random.uniform(0, STREAM_BACKOFF_S * 2 ** (failures - 1)))  # full jitter
        self.source.seek(position + 1)  # a net move drops the broken response ...
        self.source.seek(position)  # ... and the next read opens a Range GET from here

    def close(self) -> None:
        self.source.close()  # type: ignore[no-untyped-call]  # Powertools leaves close() unannotated
        super().close()


class ObjectStore(Protocol):
    """What scoring an object asks of storage (scoring.ObjectScorer): S3Store in Lambda; the command line
    (onnx-lambda score) also scores local files through a store of the same shape, which names them file://."""

    def uri(self, ref: ObjectRef) -> str:
        """How the object is named in summaries, answers and logs."""

    def head(self, ref: ObjectRef) -> ObjectHead | None:
        """The object's ETag and size, or None when it does not exist."""

    def open(self, ref: ObjectRef, head: ObjectHead) -> IO[bytes]:
        """A stream of exactly the content ``head`` describes."""

    def read_json(self, ref: ObjectRef) -> dict[str, Any] | None:
        """A small JSON object, or None when absent or unreadable."""

    def publish(self, ref: ObjectRef, body: IO[bytes], content_type: str) -> None:
        """Write a whole file, visible under its key only once complete."""

    def put_json(self, ref: ObjectRef, value: Any) -> None:
        """Write a small JSON object."""

    def list_objects(self, bucket: str, prefix: str) -> Iterator[tuple[ObjectRef, ObjectHead]]:
        """Every object under the prefix, in key order."""


class S3Store:
    """A thin layer over one boto3 S3 client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def uri(self, ref: ObjectRef) -> str:
        """s3://bucket/key."""
        return ref.uri

    def head(self, ref: ObjectRef) -> ObjectHead | None:
        """The object's ETag and size, or None when it no longer exists."""
        try:
            response = self.client.head_object(Bucket=ref.bucket, Key=ref.key)
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return ObjectHead(etag=str(response["ETag"]), size=int(response["ContentLength"]))

    def open(self, ref: ObjectRef, head: ObjectHead) -> IO[bytes]:
        """A buffered stream of exactly the content with this ETag (S3 refuses if it changed meanwhile),
        read in big blocks and resumed across transient breaks (ResumableBody)."""
        from aws_lambda_powertools.utilities.streaming import S3Object  # noqa: PLC0415 - see the module docstring

        source = S3Object(bucket=ref.bucket, key=ref.key, boto3_client=self.client, IfMatch=head.etag)
        return io.BufferedReader(ResumableBody(source, head, ref.uri), buffer_size=READ_BUFFER_BYTES)

    def read_json(self, ref: ObjectRef) -> dict[str, Any] | None:
        """A small JSON object (a summary), or None when absent or unreadable."""
        try:
            body = self.client.get_object(Bucket=ref.bucket, Key=ref.key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None
        try:
            value = json.loads(body)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def publish(self, ref: ObjectRef, body: IO[bytes], content_type: str) -> None:
        """Upload a whole file; S3 shows it under its key only once complete (one PUT or a finished multipart)."""
        from boto3.s3.transfer import TransferConfig  # type: ignore[import-untyped]  # noqa: PLC0415 - boto3 only for batch work

        config = TransferConfig(
            multipart_threshold=MULTIPART_BYTES, multipart_chunksize=MULTIPART_BYTES, max_concurrency=2
        )
        config.max_in_memory_upload_chunks = 2  # s3transfer's bound on parts held in memory (default 10)
        self.client.upload_fileobj(body, ref.bucket, ref.key, ExtraArgs={"ContentType": content_type}, Config=config)

    def put_json(self, ref: ObjectRef, value: Any) -> None:
        """A small JSON object in one PUT."""
        data = json.dumps(value, indent=2).encode("utf-8")
        self.client.put_object(Bucket=ref.bucket, Key=ref.key, Body=data, ContentType="application/json")

    def list_objects(self, bucket: str, prefix: str) -> Iterator[tuple[ObjectRef, ObjectHead]]:
        """Every object under the prefix, page by page, in key order."""
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield ObjectRef(bucket, item["Key"]), ObjectHead(str(item["ETag"]), int(item["Size"]))


def import_sdk() -> None:
    """Import boto3 and its transfer manager now (~200 ms): a batch function's INIT calls this, so the first
    event does not pay it. The client itself is still made on first use, from the configuration then."""
    import boto3.s3.transfer  # type: ignore[import-untyped]  # noqa: F401, PLC0415 - see the module docstring


def client_config() -> Any:
    """The botocore Config every batch client gets: standard retries and timeouts (see MAX_ATTEMPTS)."""
    from botocore.config import Config  # type: ignore[import-untyped]  # noqa: PLC0415 - see the module docstring

    return Config(
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
    )


def _log_retry(request: Any, operation_name: str = "", **_: Any) -> None:
    """botocore retries silently; a warning per retried attempt shows an outage building up in the logs."""
    attempt = int(request.context.get("retries", {}).get("attempt", 1))
    if attempt > 1:
        logger.warning("S3 call retried", extra={"operation": operation_name, "attempt": attempt})


@lru_cache(maxsize=1)
def default_store() -> S3Store:
    """The store on the function's own S3 client, created on first use and kept for the instance's life."""
    import boto3  # noqa: PLC0415 - see the module docstring

    client = boto3.client("s3", config=client_config())
    client.meta.events.register("request-created.s3", _log_retry)
    return S3Store(client)
