"""Where one input object's outputs go, derived from its key alone (see scoring.py for why).

``input/a/b.csv`` under INPUT_PREFIX ``input/`` gives ``output/a/b.csv/predictions.csv``,
``.../errors.jsonl`` and ``.../summary.json``. S3 keys are at most 1,024 bytes of UTF-8, and the output
keys are longer than the input's, so an input key near the limit has outputs S3 would refuse on every
retry: such an object is rejected at once, with its summary under a short key derived from a hash of the
input key (``output/_key-too-long/<sha256>/summary.json``), instead of failing until the retries run out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from handler.batch.outputs import WRITERS
from handler.batch.store import S3_KEY_BYTES, ObjectRef
from handler.settings import Settings

TOO_LONG_FOLDER = "_key-too-long/"


@dataclass(frozen=True)
class Outputs:
    """Where one input object's outputs go; ``prefix`` is the output prefix they were placed under."""

    predictions: ObjectRef
    errors: ObjectRef
    summary: ObjectRef
    prefix: str = ""

    def longest_key_bytes(self) -> int:
        """The longest of the three keys, in bytes as S3 counts them."""
        return max(len(ref.key.encode("utf-8")) for ref in (self.predictions, self.errors, self.summary))

    def too_long(self) -> str | None:
        """Why S3 would refuse these keys, or None when it takes them."""
        longest = self.longest_key_bytes()
        if longest <= S3_KEY_BYTES:
            return None
        return (
            f"the output keys would be {longest} bytes, over S3's {S3_KEY_BYTES}-byte key limit; shorten the input "
            f"key by at least {longest - S3_KEY_BYTES} bytes"
        )

    def short_summary(self, input_key: str) -> ObjectRef:
        """Where the summary of an object whose output keys are too long goes instead."""
        digest = hashlib.sha256(input_key.encode("utf-8", "surrogatepass")).hexdigest()
        return ObjectRef(self.summary.bucket, f"{self.prefix}{TOO_LONG_FOLDER}{digest}/summary.json")


def outputs_for(ref: ObjectRef, fmt: str | None, settings: Settings) -> Outputs | None:
    """The output keys for an input object, or None when it is not under INPUT_PREFIX."""
    bucket = settings.output_bucket or ref.bucket
    return outputs_under(ref, fmt, settings.input_prefix, bucket, settings.output_prefix)


def outputs_under(
    ref: ObjectRef, fmt: str | None, input_prefix: str, bucket: str, output_prefix: str
) -> Outputs | None:
    """The same layout with the prefixes and output bucket given (the command line's --out), not read from settings."""
    if not ref.key.startswith(input_prefix) or ref.key.endswith("/"):
        return None
    base = output_prefix + ref.key[len(input_prefix) :] + "/"
    extension = WRITERS[fmt].extension if fmt else ".jsonl"
    return Outputs(
        ObjectRef(bucket, f"{base}predictions{extension}"),
        ObjectRef(bucket, f"{base}errors.jsonl"),
        ObjectRef(bucket, f"{base}summary.json"),
        output_prefix,
    )
