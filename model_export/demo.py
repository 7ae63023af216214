"""`make demo`: serve the default model through the real Lambda entry point and predict real digits.

Starts the local API Gateway stand-in (the same ``handler.entrypoint.lambda_handler`` that runs in
Lambda) on a free loopback port, sends held-out digits it never trained on to ``POST /predict``, prints
each prediction beside the true label, and stops the server.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

from handler.gateway_process import spawn_gateway


def _post(url: str, payload: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"content-type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def _render(image: np.ndarray) -> list[str]:
    """An 8x8 digit (pixels 0-16) as eight rows of text, so the demo shows what it sent."""
    shades = " .:*#"
    rows = image.reshape(8, 8)
    return ["".join(shades[min(4, int(value) // 4)] for value in row) for row in rows]


def run(model: Path, test_set: Path, count: int) -> int:
    """Serve ``model``, predict ``count`` held-out digits, print the table; returns the exit code."""
    data = np.load(test_set)
    images, labels = data["X"][:count].astype(np.float32), data["y"][:count]
    with spawn_gateway(env={"MODEL_PATH": str(model)}) as gateway:
        print(f"Serving {model} through handler.entrypoint.lambda_handler at {gateway.url}")
        health = _get(gateway.url + "/health")
        print(
            f"GET /health -> {health['status']}: {health['model']['name']} v{health['model']['version']}, "
            f"session {health['init']['session_ms']} ms, warm-up {health['init']['warmup_ms']} ms"
        )
        answer = _post(gateway.url + "/predict", {"instances": images.tolist()})
    print(f"\nPOST /predict with {count} held-out digits (never seen in training):\n")
    pictures = [_render(image) for image in images]
    for row in range(8):
        print("            " + "  ".join(picture[row] for picture in pictures))
    predicted = [prediction["label"] for prediction in answer["predictions"]]
    print("true        " + "  ".join(f"{int(label):^8d}" for label in labels))
    print("predicted   " + "  ".join(f"{label:^8s}" for label in predicted))
    print("score       " + "  ".join(f"{p['score']:^8.3f}" for p in answer["predictions"]))
    right = sum(label == str(int(true)) for label, true in zip(predicted, labels, strict=True))
    print(f"\n{right}/{count} correct. Try it yourself: `make serve`, then the README's curl examples.")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line: python -m model_export.demo [--model PATH] [--test-set PATH] [--count N]."""
    parser = argparse.ArgumentParser(prog="python -m model_export.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=Path("models/digits-cnn.onnx"))
    parser.add_argument("--test-set", type=Path, default=Path("models/digits-test.npz"))
    parser.add_argument("--count", type=int, default=12)
    args = parser.parse_args(argv)
    for path in (args.model, args.test_set):
        if not path.is_file():
            print(
                f"error: {path} is missing; run `make model` (python -m model_export digits --out-dir models)",
                file=sys.stderr,
            )
            return 2
    return run(args.model, args.test_set, args.count)


if __name__ == "__main__":
    sys.exit(main())
