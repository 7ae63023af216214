"""Locust load test of the digits API: health, /predict and the Open Inference Protocol, JSON and binary.

Why every answer is checked, not only its status: under load a server that answers 200 with the wrong
label is worse than one that answers 503. So each request sends held-out digits whose true label the model
gets right (found once at start by running the same ONNX model in this process), and a different label, a
body that does not parse or a wrong size is a failure.

Runs as its own process (locust patches the standard library with gevent), locally or against a deployment:

    python -m locust -f bench/locustfile.py --headless -u 50 -r 10 -t 60s --host URL

Environment: ONNX_LAMBDA_AUTH none|iam|jwt (default none); ONNX_LAMBDA_TOKEN, the bearer token for jwt;
for iam the usual AWS credential chain and AWS_REGION (else the region in the execute-api host name);
ONNX_LAMBDA_DIGITS, the held-out digits (default models/digits-test.npz); ONNX_LAMBDA_REFERENCE_MODEL,
the model that picks the digits it classifies right (default models/digits-cnn.onnx).
"""

from __future__ import annotations

import json
import logging
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import gevent
import numpy as np
from locust import FastHttpUser, between, events, task
from locust.contrib.fasthttp import ResponseContextManager
from locust.env import Environment

import bench  # noqa: F401  (puts the tests' kits on the path: the binary extension as a client reads it)
from bench.load_report import THINK_SECONDS
from onnx_lambda.auth import Signer, make_signer  # the same signing as onnx-lambda invoke --auth
from tests.testkit.binary import binary_request, read_binary

REPO = Path(__file__).resolve().parent.parent
BATCH = 8  # the "small batch": /predict and binary infer send this many digits
LABEL, PROBABILITIES = "label", "probabilities"
HEADER_LENGTH = "Inference-Header-Content-Length"
OCTET_STREAM = "application/octet-stream"
Check = Callable[[ResponseContextManager], None]
log = logging.getLogger("onnx_lambda.load")


@dataclass(frozen=True)
class Target:
    """What every user shares: where to send, how to sign, the served model and the digits to send it."""

    base_url: str
    sign: Signer
    model: str
    input_name: str
    class_labels: list[str]
    images: np.ndarray  # float32 [n, *input shape]: held-out digits the reference model classifies right
    labels: np.ndarray  # int64 [n]: their held-out labels

    def sample(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """``count`` random digits and their labels."""
        rows = np.array(random.sample(range(len(self.labels)), count))
        return self.images[rows], self.labels[rows]


TARGET: Target | None = None


def _get_json(base_url: str, sign: Signer, path: str) -> Any:
    """One setup call outside the statistics, with the same authorisation as the load."""
    url = base_url + path
    with urlopen(Request(url, headers=sign("GET", url, b"", {})), timeout=30) as response:
        return json.loads(response.read())


def right_digits(signature: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The held-out digits the reference ONNX model gets right, shaped as the served model's input says."""
    import onnxruntime as ort  # noqa: PLC0415 - only at start: picks the digits, never on the request path

    data = np.load(os.environ.get("ONNX_LAMBDA_DIGITS", REPO / "models" / "digits-test.npz"))
    images = np.asarray(data["X"], dtype=np.float32).reshape(-1, *signature[1:])
    labels = np.asarray(data["y"], dtype=np.int64)
    model = os.environ.get("ONNX_LAMBDA_REFERENCE_MODEL", str(REPO / "models" / "digits-cnn.onnx"))
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    (predicted,) = session.run([LABEL], {session.get_inputs()[0].name: images})
    right = np.asarray(predicted).astype(str) == labels.astype(str)  # the class names, "0" to "9"
    log.info("%d of %d held-out digits are classified right by %s; sending those", right.sum(), len(labels), model)
    return images[right], labels[right]


def discover(base_url: str, sign: Signer) -> Target:
    """The served model's name (from /health), its input and class labels (GET /v2/models/{name})."""
    health = _get_json(base_url, sign, "/health")
    if not health.get("ready"):
        raise RuntimeError(f"GET /health says the model is not ready: {health}")
    model = health["model"]["name"]
    metadata = _get_json(base_url, sign, f"/v2/models/{model}")
    outputs = {output["name"] for output in metadata["outputs"]}
    if not {LABEL, PROBABILITIES} <= outputs:
        raise RuntimeError(f"model {model!r} has outputs {sorted(outputs)}; this load test needs label, probabilities")
    if "binary_tensor_data" not in _get_json(base_url, sign, "/v2").get("extensions", []):
        raise RuntimeError("GET /v2 does not list the binary_tensor_data extension")
    (spec,) = metadata["inputs"]
    labels = json.loads(metadata.get("parameters", {}).get("class_labels") or "null") or [str(n) for n in range(10)]
    images, truth = right_digits(spec["shape"])
    return Target(base_url, sign, model, spec["name"], [str(label) for label in labels], images, truth)


@events.test_start.add_listener
def _on_test_start(environment: Environment, **_: Any) -> None:
    """Discover once, before any user starts; a target that cannot be reached ends the run with exit code 3."""
    global TARGET  # noqa: PLW0603 - set once, read by every user
    base_url = (environment.host or "").rstrip("/")
    try:
        TARGET = discover(base_url, make_signer(os.environ, base_url))
        log.info("load target: model %s at %s", TARGET.model, base_url)
    except Exception as exc:
        log.error("cannot start the load test against %r: %s: %s", base_url, type(exc).__name__, exc)
        environment.process_exit_code = 3
        runner, options = environment.runner, environment.parsed_options
        if runner is not None:  # quit headless runs; in the web UI stop, so the host can be corrected
            gevent.spawn(runner.quit if options is None or options.headless else runner.stop)


class WrongAnswer(ValueError):
    """A 200 whose labels are not the held-out ones: the failure this load test exists to catch."""


def check_labels(got: list[Any], expected: list[Any]) -> None:
    """The labels are the expected ones; the message does not quote them, so Locust groups the failures."""
    if len(got) != len(expected):
        raise WrongAnswer(f"{len(got)} labels for {len(expected)} digits")
    wrong = sum(answer != truth for answer, truth in zip(got, expected, strict=True))
    if wrong:
        raise WrongAnswer(f"{wrong} of {len(expected)} labels differ from the held-out labels")


def check_outputs(outputs: list[dict[str, Any]], expected: np.ndarray) -> None:
    """OIP outputs (JSON, or binary read back to 'data'): the held-out labels, and probabilities to match."""
    by_name = {output["name"]: output for output in outputs}
    labels = np.asarray(by_name[LABEL]["data"], dtype=np.int64)
    check_labels(labels.tolist(), expected.tolist())
    probabilities = np.asarray(by_name[PROBABILITIES]["data"], dtype=np.float32).reshape(len(expected), -1)
    check_probabilities(labels, probabilities, len(expected))


def check_probabilities(labels: np.ndarray, probabilities: np.ndarray, count: int) -> None:
    """Probabilities are [count, classes], finite, sum to 1 by row, and their argmax is the label."""
    if probabilities.shape[0] != count or not np.isfinite(probabilities).all():
        raise ValueError(f"probabilities of shape {probabilities.shape}, or not finite")
    if not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("probability rows do not sum to 1")
    if not np.array_equal(probabilities.argmax(axis=1), labels):
        raise ValueError("the label is not the most probable class")


class DigitsUser(FastHttpUser):
    """One client calling the API back to back with a short think time, every answer checked."""

    wait_time = between(*THINK_SECONDS)

    def on_start(self) -> None:
        """End quietly when the start-up discovery failed (the run is being ended); StopUser would log an error."""
        if TARGET is None:
            raise gevent.GreenletExit
        self.target = TARGET

    def send(
        self, name: str, path: str, check: Check, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> None:
        """A signed request to an absolute URL (so the URL signed is the URL sent), failed unless it is a 200
        that ``check`` accepts; a body that does not parse is as wrong as a wrong label."""
        method = "POST" if body else "GET"
        url = self.target.base_url + path
        # Answers asked for uncompressed: the load figures stay comparable with earlier runs (gzip, which the server
        # gives a client that asks, is tested on its own), and geventhttpclient inflates only what it asked for.
        signed = self.target.sign(method, url, body, {"accept-encoding": "identity", **(headers or {})})
        with self.client.request(
            method, url, name=name, data=body or None, headers=signed, catch_response=True
        ) as response:
            if response.status_code != 200:
                text = (response.text or "")[:200] if response.content else ""
                response.failure(f"HTTP {response.status_code}: {text}")
                return
            try:
                check(response)
            except Exception as exc:
                response.failure(f"{type(exc).__name__}: {exc}")
            else:
                response.success()

    @task(1)
    def health(self) -> None:
        """GET /health: ready, serving the model the run started with."""

        def check(response: ResponseContextManager) -> None:
            body = response.json()
            if not body["ready"] or body["model"]["name"] != self.target.model:
                raise ValueError(f"not ready, or serving another model: {body}")

        self.send("/health", "/health", check)

    def predict(self, count: int, name: str) -> None:
        """POST /predict with ``count`` digits: each prediction's label is the held-out one."""
        images, labels = self.target.sample(count)
        body = json.dumps({"instances": images.reshape(count, -1).tolist()}).encode()
        expected = [self.target.class_labels[label] for label in labels]

        def check(response: ResponseContextManager) -> None:
            check_labels([prediction["label"] for prediction in response.json()["predictions"]], expected)

        self.send(name, "/predict", check, body, {"Content-Type": "application/json"})

    @task(3)
    def predict_one(self) -> None:
        """POST /predict, one digit: the friendly endpoint as curl users call it."""
        self.predict(1, "/predict (1 digit)")

    @task(2)
    def predict_batch(self) -> None:
        """POST /predict, a small batch."""
        self.predict(BATCH, f"/predict ({BATCH} digits)")

    @task(3)
    def infer_json(self) -> None:
        """OIP infer in JSON, one digit, both outputs."""
        images, labels = self.target.sample(1)
        tensor = {"name": self.target.input_name, "shape": list(images.shape), "datatype": "FP32"}
        request = {"id": "load", "inputs": [{**tensor, "data": images.ravel().tolist()}]}

        def check(response: ResponseContextManager) -> None:
            check_outputs(response.json()["outputs"], labels)

        path, body = f"/v2/models/{self.target.model}/infer", json.dumps(request).encode()
        self.send("/v2/models/{model}/infer JSON (1 digit)", path, check, body, {"Content-Type": "application/json"})

    @task(3)
    def infer_binary(self) -> None:
        """OIP infer with the binary tensor extension both ways, a small batch: bytes in, bytes out."""
        images, labels = self.target.sample(BATCH)
        tensor = {"name": self.target.input_name, "shape": list(images.shape), "datatype": "FP32"}
        outputs = [{"name": name, "parameters": {"binary_data": True}} for name in (LABEL, PROBABILITIES)]
        body, header_length = binary_request({"inputs": [tensor], "outputs": outputs}, {tensor["name"]: images})
        headers = {"Content-Type": OCTET_STREAM, HEADER_LENGTH: str(header_length)}

        def check(response: ResponseContextManager) -> None:
            if not (response.headers.get("content-type") or "").startswith(OCTET_STREAM):
                raise ValueError(f"content-type {response.headers.get('content-type')!r}, expected {OCTET_STREAM}")
            answer = read_binary(response.content, int(response.headers[HEADER_LENGTH]))
            if any("data" not in output for output in answer["outputs"]):
                raise ValueError("an output asked for as binary_data came back without binary_data_size")
            check_outputs(answer["outputs"], labels)

        path, name = f"/v2/models/{self.target.model}/infer", f"/v2/models/{{model}}/infer binary ({BATCH} digits)"
        self.send(name, path, check, body, headers)
