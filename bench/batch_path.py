"""The S3 batch path: records/second of the real entry point scoring a large JSON Lines, CSV or .npy object
from moto on a loopback port, against raw session.run over the same records in the same chunks."""

from __future__ import annotations

import io
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from bench.measure import REPO, run_child
from bench.scenarios import digits
from handler.contract import PROVIDERS, session_options
from tests.testkit.aws import aws_environment


@dataclass(frozen=True)
class BatchPath:
    file_format: str
    records: int
    file_mib: float
    handler_records_s: float
    raw_records_s: float
    peak_rss_mib: float

    @property
    def ratio(self) -> float:
        return self.handler_records_s / self.raw_records_s


def jsonl(records: int) -> bytes:
    lines = [json.dumps(image.astype(int).tolist()) for image in digits(360)]
    return ("\n".join(lines[i % len(lines)] for i in range(records)) + "\n").encode()


def csv(records: int) -> bytes:
    """One digit a line, its 64 pixel values comma-separated, no header."""
    lines = [",".join(str(int(v)) for v in image.ravel()) for image in digits(360)]
    return ("\n".join(lines[i % len(lines)] for i in range(records)) + "\n").encode()


def npy(records: int) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, digits(records))
    return buffer.getvalue()


ENCODERS = {"jsonl": jsonl, "csv": csv, "npy": npy}


def raw_records_per_second(records: int, chunk: int, threads: int = 1) -> float:
    session = ort.InferenceSession(
        str(REPO / "models" / "digits-cnn.onnx"), session_options(threads), providers=list(PROVIDERS)
    )
    data = digits(records)
    started = time.perf_counter()
    for first in range(0, records, chunk):
        session.run(None, {"input": data[first : first + chunk]})
    return records / (time.perf_counter() - started)


def score_in_child(data: bytes, key: str, env: dict[str, str]) -> dict[str, Any]:
    """Upload ``data`` under ``key`` to a fresh moto server and score it through the entry point in a fresh
    process (events/s3.put.json naming the key); the child's records, seconds and peak RSS."""
    with aws_environment() as aws, tempfile.TemporaryDirectory() as tmp:
        aws.put(key, data)
        event = json.loads((REPO / "events" / "s3.put.json").read_text())
        event["Records"][0]["s3"]["object"]["key"] = key
        path = Path(tmp) / "event.json"
        path.write_text(json.dumps(event))
        result: dict[str, Any] = run_child("batch", "project", str(path), env=env | {"AWS_ENDPOINT_URL": aws.url})
    return result


def measure(records: int, file_format: str = "jsonl", chunk: int = 2048) -> BatchPath:
    data = ENCODERS[file_format](records)
    env = {"BATCH_CHUNK_RECORDS": str(chunk), "ORT_INTRA_OP_THREADS": "1"}
    result = score_in_child(data, f"input/bench-{records}.{file_format}", env)
    assert result["records"] == {"in": records, "scored": records, "failed": 0}, result
    return BatchPath(
        file_format,
        records,
        len(data) / 2**20,
        records / result["seconds"],
        raw_records_per_second(records, chunk),
        result["rss_mib"],
    )
