"""``onnx-lambda demo`` (what `make demo` runs): serve the default model through the real Lambda entry point and
predict real digits."""

from __future__ import annotations

import argparse
import json
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onnx_lambda.errors import EXIT_OK, InputError
from onnx_lambda.gateway_process import spawn_gateway
from onnx_lambda.parsing import Commands, add_command, positive_int

if TYPE_CHECKING:
    import numpy as np

DETAILS = """
Starts `onnx-lambda serve` (the local API Gateway stand-in in front of handler.entrypoint.lambda_handler,
the function Lambda runs) on a free loopback port, sends held-out digits the model never trained on to
POST /predict, prints each prediction beside the true label, and stops the server. The model and its
held-out test set are what `make model` (`onnx-lambda export digits --out-dir models`) writes.
"""
EXAMPLES = """
  onnx-lambda demo
  onnx-lambda demo --count 5
"""


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


def run(model: Path, test_set: Path, count: int) -> None:
    """Serve ``model``, predict ``count`` held-out digits, print the table."""
    import numpy as np  # noqa: PLC0415 - only this command reads arrays

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


def register(commands: Commands) -> None:
    """``demo [--model --test-set --count]``."""
    summary = "serve the default digits model and predict held-out digits"
    parser = add_command(commands, "demo", summary, DETAILS, EXAMPLES)
    parser.add_argument("--model", type=Path, default=Path("models/digits-cnn.onnx"), help="default: %(default)s")
    parser.add_argument("--test-set", type=Path, default=Path("models/digits-test.npz"), help="default: %(default)s")
    parser.add_argument("--count", type=positive_int, default=12, help="digits to predict (default: %(default)s)")
    parser.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Raises InputError when the model or its test set is missing."""
    for path in (args.model, args.test_set):
        if not path.is_file():
            raise InputError(f"{path} is missing: run `make model` (onnx-lambda export digits --out-dir models)")
    run(args.model, args.test_set, args.count)
    return EXIT_OK
