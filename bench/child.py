"""One fresh process of one contestant: INIT, then either the first response or a warm loop.

    python -m bench.child first CONTESTANT [EVENT_FILE]
    python -m bench.child warm CONTESTANT SCENARIO REPEATS
    python -m bench.child batch project EVENT_FILE

``batch`` scores the S3 event in EVENT_FILE and prints the summary's counts and the seconds it took.
``first`` answers EVENT_FILE (default events/http-api-v2.predict.json) and prints the peak RSS after the
first response, flushed at once (the parent times the process from spawn to that line, not to its exit:
interpreter teardown is no part of a cold start); ``warm`` times each call of the handler on an event dict and,
in the same process, raw ``session.run`` (the peer: its module's forward) on the same array, and prints every
sample in µs.
Imports happen inside the contestant functions so each process pays only its own.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MODEL = os.environ.get("MODEL_PATH", str(REPO / "models" / "digits-cnn.onnx"))

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
Raw = Callable[[], Any]


class Context:
    """What Lambda passes as context, with only the attributes the contestants read."""

    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 1769
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench-request"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 900_000


def project() -> tuple[Handler, Callable[[Any], Raw]]:
    """The real entry point with the real settings, Powertools included."""
    from handler.entrypoint import RUNTIME, lambda_handler  # noqa: PLC0415

    session = RUNTIME.plane.model.session  # the very session the handler runs

    def raw(x: Any) -> Raw:
        return lambda: session.run(None, {"input": x})

    return lambda_handler, raw


def naive() -> tuple[Handler, Callable[[Any], Raw]]:
    """The naive ORT + FastAPI + Mangum app (bench/naive_app.py)."""
    from bench.naive_app import handler, session  # noqa: PLC0415

    def raw(x: Any) -> Raw:
        return lambda: session.run(None, {"input": x})

    return handler, raw


def peer() -> tuple[Handler, Callable[[Any], Raw]]:
    """The PyTorch peer behind FastAPI + Mangum (bench/peer_app.py)."""
    import torch  # noqa: PLC0415

    from bench.peer_app import handler, model  # noqa: PLC0415

    def raw(x: Any) -> Raw:
        tensor = torch.from_numpy(x)

        def forward() -> Any:
            with torch.inference_mode():
                return model(tensor)

        return forward

    return handler, raw


def floor_first_response() -> None:
    """The floor: import onnxruntime and numpy, create the session, one session.run of a batch of 1; nothing else."""
    import numpy as np  # noqa: PLC0415
    import onnxruntime as ort  # noqa: PLC0415

    session = ort.InferenceSession(MODEL, providers=["CPUExecutionProvider"])
    (tensor,) = session.get_inputs()
    shape = [dim if isinstance(dim, int) else 1 for dim in tensor.shape]
    session.run(None, {tensor.name: np.zeros(shape, dtype=np.float32)})


CONTESTANTS = {"project": project, "naive": naive, "peer": peer}
FIRST_EVENT = REPO / "events" / "http-api-v2.predict.json"


def peak_rss_mib() -> float:
    """VmHWM of this process: unlike ru_maxrss it starts afresh at exec, so a big parent does not leak in."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def first(contestant: str, event_file: Path = FIRST_EVENT) -> None:
    if contestant == "floor":
        floor_first_response()
        ok = True
    else:
        handler, _ = CONTESTANTS[contestant]()
        ok = handler(json.loads(event_file.read_text()), Context())["statusCode"] == 200
    sys.stdout.write(json.dumps({"first_response": ok, "rss_mib": peak_rss_mib()}) + "\n")
    sys.stdout.flush()


def timed(call: Callable[[], Any], repeats: int) -> list[float]:
    """µs per call, after a few untimed calls."""
    for _ in range(min(20, repeats)):
        call()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - started) / 1000)
    return samples


def warm(contestant: str, scenario: str, repeats: int) -> None:
    from bench.scenarios import build  # noqa: PLC0415

    handler, raw = CONTESTANTS[contestant]()
    event, x, check = build(scenario)
    context = Context()
    response = handler(event, context)
    check(response)
    stdout, sys.stdout = sys.stdout, open(os.devnull, "w")  # noqa: SIM115 - EMF lines go nowhere, as cheaply
    try:
        handler_us = timed(lambda: handler(event, context), repeats)
        raw_us = timed(raw(x), repeats)
    finally:
        sys.stdout.close()
        sys.stdout = stdout
    print(json.dumps({"handler_us": handler_us, "raw_us": raw_us}), flush=True)


def batch(event_file: str) -> None:
    handler, _ = project()
    event = json.loads(Path(event_file).read_text())
    started = time.perf_counter()
    stdout, sys.stdout = sys.stdout, open(os.devnull, "w")  # noqa: SIM115 - EMF lines go nowhere
    try:
        summary = handler(event, Context())["objects"][0]
    finally:
        sys.stdout.close()
        sys.stdout = stdout
    seconds = time.perf_counter() - started
    print(json.dumps({"records": summary["records"], "seconds": seconds, "rss_mib": peak_rss_mib()}), flush=True)


if __name__ == "__main__":
    mode, name, *rest = sys.argv[1:]
    if mode == "first":
        first(name, *map(Path, rest))
    elif mode == "batch":
        batch(rest[0])
    else:
        warm(name, rest[0], int(rest[1]))
