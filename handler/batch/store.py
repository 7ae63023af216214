"""The S3 calls the batch path makes, in one place: look, read as a stream, publish whole, list.

boto3 comes with the Lambda Python base image, so it is not one of our runtime dependencies; it is
imported the first time a batch event needs it, so HTTP cold starts never pay for it. The endpoint
follows boto3's own configuration (``AWS_ENDPOINT_URL_S3``), which is how the tests reach moto.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import IO, Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.streaming import S3Object

READ_BUFFER_BYTES = 1024 * 1024
MULTIPART_BYTES = 8 * 1024 * 1024  # parts this size: S3's 10,000-part limit allows outputs up to 80 GB


@dataclass(frozen=True)
class ObjectRef:
    """An S3 object by bucket and (decoded) key."""

    bucket: str
    key: str

    @property
    def uri(self) -> str:
        """s3://bucket/key."""
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


class _RawReader(io.RawIOBase):
    """Lets io.BufferedReader read lines from Powertools' S3Object in big blocks, not byte by byte."""

    def __init__(self, source: S3Object) -> None:
        self.source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class S3Store:
    """A thin layer over one boto3 S3 client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def head(self, ref: ObjectRef) -> ObjectHead | None:
        """The object's ETag and size, or None when it no longer exists."""
        try:
            response = self.client.head_object(Bucket=ref.bucket, Key=ref.key)
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return ObjectHead(etag=str(response["ETag"]), size=int(response["ContentLength"]))

    def open(self, ref: ObjectRef, etag: str) -> IO[bytes]:
        """A buffered stream of exactly the content with this ETag (S3 refuses if it changed meanwhile)."""
        source = S3Object(bucket=ref.bucket, key=ref.key, boto3_client=self.client, IfMatch=etag)
        return io.BufferedReader(_RawReader(source), buffer_size=READ_BUFFER_BYTES)

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


@lru_cache(maxsize=1)
def default_store() -> S3Store:
    """The store on the function's own S3 client, created on first use and kept for the instance's life."""
    import boto3  # noqa: PLC0415 - see the module docstring

    return S3Store(boto3.client("s3"))
