"""Peak RSS and records/second of the S3 batch path, against moto on a loopback port.

For each size, a JSON Lines file of held-out digits is uploaded and a fresh process runs the real
entry point on an S3 put event for it, reporting its peak RSS (ru_maxrss) and the time spent scoring.
The same records are also pushed through a bare ``session.run`` in chunks of the same size, to put the
handler's records/second next to the floor. Peak RSS should not grow with the file: that is the claim.

    .venv/bin/python bench/batch_memory.py [--records 20000 200000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from testkit.aws import aws_environment  # noqa: E402

MODEL = REPO / "models" / "digits-cnn.onnx"
SCORE = """
import json, resource, sys, time
from handler.entrypoint import lambda_handler
from handler.local_gateway import LocalContext
event = json.load(open(sys.argv[1]))
started = time.perf_counter()
summary = lambda_handler(event, LocalContext(timeout_s=900))["objects"][0]
elapsed = time.perf_counter() - started
print(json.dumps({"records": summary["records"], "seconds": elapsed,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def jsonl(records: int) -> bytes:
    """``records`` held-out digits, one JSON array per line."""
    x = np.load(MODEL.parent / "digits-test.npz")["X"]
    lines = [json.dumps(image.astype(int).tolist()) for image in x]
    return ("\n".join(lines[i % len(lines)] for i in range(records)) + "\n").encode()


def raw_records_per_second(records: int, chunk: int) -> float:
    """The floor: session.run over the same instances, chunk by chunk (parsing excluded)."""
    x = np.load(MODEL.parent / "digits-test.npz")["X"].astype(np.float32)
    data = np.resize(x, (records, 1, 8, 8))
    session = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    started = time.perf_counter()
    for first in range(0, records, chunk):
        session.run(None, {"input": data[first : first + chunk]})
    return records / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--chunk", type=int, default=2048)
    args = parser.parse_args()
    print("| records | file MiB | peak RSS MiB | seconds | records/s | raw session.run records/s | ratio |")
    print("|---|---|---|---|---|---|---|")
    with aws_environment() as aws, tempfile.TemporaryDirectory() as tmp:
        for records in args.records:
            key = f"input/bench-{records}.jsonl"
            data = jsonl(records)
            aws.put(key, data)
            event = json.loads((REPO / "events" / "s3.put.json").read_text())
            event["Records"][0]["s3"]["object"]["key"] = key
            path = Path(tmp) / "event.json"
            path.write_text(json.dumps(event))
            env = {**os.environ, "BATCH_CHUNK_RECORDS": str(args.chunk)}
            out = subprocess.run([sys.executable, "-c", SCORE, str(path)], cwd=REPO, env=env, check=True,
                                 capture_output=True, text=True).stdout
            result = json.loads(out.strip().splitlines()[-1])
            assert result["records"] == {"in": records, "scored": records, "failed": 0}, result
            rate = records / result["seconds"]
            raw = raw_records_per_second(records, args.chunk)
            print(f"| {records:,} | {len(data) / 2**20:.1f} | {result['peak_rss_mib']:.0f} | {result['seconds']:.1f} "
                  f"| {rate:,.0f} | {raw:,.0f} | {rate / raw:.2f} |", flush=True)


if __name__ == "__main__":
    main()
