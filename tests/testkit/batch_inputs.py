"""Batch inputs and outputs for the tests through the real entry point: events naming an object, digit lines,
and what scoring published for an input key."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_plus

import numpy as np

from tests.testkit.aws import INPUT_BUCKET, Aws
from tests.testkit.events import load_event

DEEP_LINE = b"[" * 200_000 + b"]" * 200_000  # a JSON Lines line nested past Python's recursion limit


def s3_event(key: str, bucket: str = INPUT_BUCKET) -> dict[str, Any]:
    """events/s3.put.json naming another object (keys arrive URL-encoded, as S3 sends them)."""
    event = load_event("s3.put")
    event["Records"][0]["s3"]["object"]["key"] = quote_plus(key)
    event["Records"][0]["s3"]["bucket"]["name"] = bucket
    return event


def published(aws: Aws, key: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Predictions (JSON Lines), errors and summary of an input key."""
    base = "output/" + key.removeprefix("input/") + "/"
    lines = [json.loads(line) for line in aws.read(base + "errors.jsonl").splitlines()]
    summary = json.loads(aws.read(base + "summary.json"))
    predictions = aws.read(base + "predictions.jsonl").splitlines() if key.endswith(".jsonl") else []
    return [json.loads(line) for line in predictions], lines, summary


def digit_lines(x: np.ndarray) -> list[bytes]:
    return [json.dumps(image.astype(int).ravel().tolist()).encode() for image in x]
