"""The local gateway (`onnx-lambda serve`): one keep-alive connection POSTing the predict-1 request again and
again, timed at the client, against the handler answering the same event in-process (bench.warm_latency).

What it adds over the handler is HTTP parsing, the event it builds and the socket round trip; make load's
figures are only the function's if that is small, hence the target (within 1 ms of the handler).
"""

from __future__ import annotations

import base64
import http.client
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.measure import child_env, percentile
from bench.scenarios import build
from onnx_lambda.gateway_process import spawn_gateway


@dataclass(frozen=True)
class GatewayLatency:
    requests: int
    p50_us: float
    p99_us: float


def measure(requests: int) -> GatewayLatency:
    event, _, _ = build("predict-1")
    body = base64.b64decode(event["body"]) if event.get("isBase64Encoded") else event["body"].encode()
    headers = {"content-type": "application/json"}
    samples: list[float] = []
    with spawn_gateway(env=child_env({"ORT_INTRA_OP_THREADS": "1"})) as gateway:
        where = urlsplit(gateway.url)
        connection = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=30)
        try:
            for index in range(requests + 20):
                started = time.perf_counter_ns()
                connection.request("POST", "/predict", body, headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"the gateway answered {response.status}")
                if index >= 20:  # the first ones warm the connection and the handler
                    samples.append((time.perf_counter_ns() - started) / 1000)
        finally:
            connection.close()
    return GatewayLatency(requests, percentile(samples, 0.5), percentile(samples, 0.99))
