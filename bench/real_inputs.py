"""Image files and generated text through the handler, next to the same work done bare, in one process.

Images: POST /predict with the file as the body (a 640x480 JPEG photo-sized, and a 32x32 PNG), through the
Mangum adapter the entry point builds, against the bare path: Pillow's open, convert and bilinear resize, then
``session.run`` on the pixels. Generation (docs/examples.md's name generator, 12 letters at most): tokens per second
for /predict with one request and with eight, against a bare numpy loop over ``session.run`` for one request,
and against the loop inside the graph (the same step scripted by TorchScript into an ONNX Loop, one run per
name, uniforms fed in), which handler.generation's docstring weighs. Interleaved, medians of many runs.
"""

from __future__ import annotations

import base64
import io
import json
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.child import timed
from bench.scenarios import _event
from handler.contract import PROVIDERS, session_options
from handler.lambda_instance import LocalContext
from handler.runtime import build_runtime
from handler.settings import settings_from_env

LENGTH = 12


@dataclass(frozen=True)
class Row:
    name: str
    median_us: float
    ratio: float  # handler / bare (images), or tokens/s against the bare loop's (generation)
    tokens_s: float | None = None


def _median_us(call: Callable[[], Any], repeats: int) -> float:
    return statistics.median(timed(call, repeats))


def _http(model: Path) -> Callable[[str, bytes, str], Callable[[], dict[str, Any]]]:
    """Requests to the model through the Mangum adapter, each event built once (the client's work, not timed)."""
    http = build_runtime(settings_from_env({"MODEL_PATH": str(model), "ORT_INTRA_OP_THREADS": "1"})).http
    context = LocalContext()

    def request(path: str, body: bytes, content_type: str) -> Callable[[], dict[str, Any]]:
        event = _event(path, body, {"content-type": content_type})
        if not content_type.endswith("json"):
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True

        def call() -> dict[str, Any]:
            answer = http(event, context)
            assert answer["statusCode"] == 200, answer["body"][:300]
            result: dict[str, Any] = json.loads(answer["body"])
            return result

        return call

    return request


def _session(model: Path) -> Any:
    import onnxruntime as ort  # noqa: PLC0415

    return ort.InferenceSession(str(model), session_options(1), providers=list(PROVIDERS))


def image_rows(folder: Path, repeats: int, training: int) -> list[Row]:
    from PIL import Image  # noqa: PLC0415

    from model_export import export_torch  # noqa: PLC0415 - export-time, for this benchmark only
    from model_export.image_export import image_spec  # noqa: PLC0415
    from tests.testkit import shapes  # noqa: PLC0415

    path = folder / "shapes.onnx"
    net = shapes.trained(training, epochs=1)  # how well it classifies does not change how fast it runs
    export_torch(net, path, image=image_spec("32x32", mean=shapes.MEAN, std=shapes.STD))
    post, session = _http(path), _session(path)
    rng = np.random.default_rng(0)
    files = {
        "640x480 JPEG": shapes.encoded(shapes.draw(3, rng, (640, 480)), "JPEG"),
        "32x32 PNG": shapes.encoded(shapes.draw(3, rng, (32, 32))),
    }
    rows = []
    for name, data in files.items():
        kind = "image/jpeg" if "JPEG" in name else "image/png"

        def bare(data: bytes = data) -> Any:
            with Image.open(io.BytesIO(data)) as image:
                pixels = np.asarray(image.convert("RGB").resize((32, 32), Image.Resampling.BILINEAR))[None]
            return session.run(None, {"image": pixels})

        handler_us = _median_us(post("/predict", data, kind), repeats)
        bare_us = _median_us(bare, repeats)
        rows += [Row(f"{name}, /predict body", handler_us, handler_us / bare_us), Row(f"{name}, bare", bare_us, 1.0)]
    return rows


def _bare_loop(session: Any, vocabulary: int, seed: int) -> int:
    """One name, the plain way: a numpy loop over session.run; returns the tokens drawn."""
    rng = np.random.default_rng(seed)
    state = np.zeros((1, 1, 64), dtype=np.float32)
    logits, state = session.run(None, {"token": np.array([0]), "state": state})
    drawn = 0
    while drawn < LENGTH:
        weights = np.exp(logits[0] - logits[0].max()).cumsum()
        token = int(min(np.searchsorted(weights, rng.random() * weights[-1], side="right"), vocabulary - 1))
        if token == 1:
            break
        drawn += 1
        logits, state = session.run(None, {"token": np.array([token]), "state": state})
    return drawn


def _loop_graph(net: Any, folder: Path) -> Path:
    """The same step, its sampling loop scripted by TorchScript into the graph (an ONNX Loop): one run a name."""
    import torch  # noqa: PLC0415 - export-time, for this benchmark only
    from torch import nn  # noqa: PLC0415

    class Sampler(nn.Module):
        def __init__(self, step: nn.Module) -> None:
            super().__init__()
            self.step = step

        def forward(self, prime: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
            state = torch.zeros(1, 1, 64)
            logits = torch.zeros(1, 54)
            for index in range(prime.size(0)):
                logits, state = self.step(prime[index : index + 1], state)
            tokens = torch.zeros(uniforms.size(0), dtype=torch.long)
            for position in range(uniforms.size(0)):
                cumulative = torch.cumsum(torch.softmax(logits[0], dim=0), dim=0)
                token = torch.clamp((cumulative <= uniforms[position]).sum(), max=53)
                tokens[position] = token
                logits, state = self.step(token.view(1), state)
            return tokens

    path = folder / "loop.onnx"
    example = (torch.tensor([0]), torch.rand(LENGTH))
    scripted = torch.jit.script(Sampler(net))
    torch.onnx.export(
        scripted, example, str(path), dynamo=False, input_names=["prime", "uniforms"], output_names=["tokens"],
        dynamic_axes={"prime": {0: "p"}, "uniforms": {0: "t"}}, opset_version=18,
    )  # fmt: skip
    return path


def generation_rows(folder: Path, repeats: int, training: int) -> list[Row]:
    from model_export.generator_export import export_generator  # noqa: PLC0415 - export-time, this benchmark only
    from tests.testkit import names  # noqa: PLC0415

    net = names.trained(steps=training)
    path = folder / "names.onnx"
    export_generator(
        net, path, vocabulary=names.VOCABULARY, start_token=names.START, end_token=names.END,
        state_shape=(1, names.HIDDEN), max_length=LENGTH, temperature=1.0,
    )  # fmt: skip
    post, session, loop = _http(path), _session(path), _session(_loop_graph(net, folder))
    rng = np.random.default_rng(1)
    counts: dict[str, list[int]] = {"one": [], "eight": [], "bare": [], "graph": []}

    bodies = {
        count: [json.dumps({"instances": [{"seed": seed + n} for n in range(count)]}).encode() for seed in range(50)]
        for count in (1, 8)
    }
    calls = {count: [post("/predict", body, "application/json") for body in bodies[count]] for count in bodies}

    def served(count: int, key: str) -> None:
        answer = calls[count][len(counts[key]) % len(calls[count])]()
        counts[key].append(sum(len(p["text"]) for p in answer["predictions"]))

    def bare() -> None:
        counts["bare"].append(_bare_loop(session, len(names.VOCABULARY), int(rng.integers(1 << 30))))

    def graph() -> None:
        tokens = loop.run(None, {"prime": np.array([0]), "uniforms": rng.random(LENGTH).astype(np.float32)})[0]
        counts["graph"].append(int(np.argmax(tokens == 1)) if (tokens == 1).any() else LENGTH)

    timings = {
        "one": _median_us(lambda: served(1, "one"), repeats),
        "eight": _median_us(lambda: served(8, "eight"), repeats),
        "bare": _median_us(bare, repeats),
        "graph": _median_us(graph, repeats),
    }
    rates = {key: statistics.mean(counts[key]) / (timings[key] / 1e6) for key in timings}
    labels = {
        "one": "/predict, 1 request",
        "eight": "/predict, 8 requests stepping together",
        "bare": "bare numpy loop over session.run, 1 request",
        "graph": "ONNX Loop in the graph (TorchScript), 1 request",
    }
    return [Row(labels[key], timings[key], rates[key] / rates["bare"], rates[key]) for key in timings]


def measure(repeats: int, quick: bool = False) -> tuple[list[Row], list[Row]]:
    """(image rows, generation rows); ``quick`` trains the models barely (the smoke run checks that it runs)."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        return image_rows(folder, repeats, 64 if quick else 200), generation_rows(folder, repeats, 5 if quick else 60)


def section(images: list[Row], generation: list[Row]) -> list[str]:
    lines = ["## Image files and generated text", "", (__doc__ or "").split("\n\n")[0].replace("\n", " "), ""]
    lines += ["| image request | median µs | vs bare decode + run |", "|---|---|---|"]
    lines += [f"| {row.name} | {row.median_us:,.0f} | {row.ratio:.2f}x |" for row in images]
    lines += ["", "| generation (names of at most 12 letters) | median µs a call | tokens/s | vs bare loop |"]
    lines += ["|---|---|---|---|"]
    lines += [f"| {row.name} | {row.median_us:,.0f} | {row.tokens_s:,.0f} | {row.ratio:.2f}x |" for row in generation]
    return lines


if __name__ == "__main__":
    found = measure(200)
    print("\n".join(section(*found)))
