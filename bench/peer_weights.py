"""The peer's weights: the default CNN trained again with the same seed, checked against the ONNX file.

Training is deterministic on the CPU (model_export.digits_torch), so the state_dict saved here is the
network models/digits-cnn.onnx was exported from; the agreement check proves it before any figure is
taken, so the peer and this project answer the same requests with the same numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from model_export.digits import load_split
from model_export.digits_torch import train_cnn

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "models" / "digits-cnn.onnx"
WEIGHTS = REPO / "bench" / ".cache" / "digits-cnn.pt"


def peer_weights(seed: int = 0) -> Path:
    """bench/.cache/digits-cnn.pt, trained once; raises if it disagrees with the served ONNX model."""
    if not WEIGHTS.is_file():
        split = load_split(seed)
        model = train_cnn(split.x_train, split.y_train, seed)
        WEIGHTS.parent.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), WEIGHTS)
    check_agreement()
    return WEIGHTS


def check_agreement() -> float:
    """Max |logit difference| between the peer's network and the ONNX model on the held-out set."""
    from model_export.digits_torch import DigitsCNN  # noqa: PLC0415

    x = np.load(MODEL.parent / "digits-test.npz")["X"].astype(np.float32)
    model = DigitsCNN()
    model.load_state_dict(torch.load(WEIGHTS, weights_only=True))
    with torch.inference_mode():
        probabilities = torch.softmax(model.eval()(torch.from_numpy(x)), dim=1).numpy()
    session = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    onnx_probabilities = session.run(["probabilities"], {"input": x})[0]
    difference = float(np.max(np.abs(probabilities - onnx_probabilities)))
    if difference > 1e-4:
        raise RuntimeError(f"the peer's weights are not the served model's (max |diff| {difference:.2e})")
    return difference
