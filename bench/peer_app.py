"""The peer: the digits CNN served the way the usual tutorials do it, honestly (no handicaps).

PyTorch loaded at import, the trained module's state_dict loaded and put in eval mode, one warm-up
forward pass, an ``async def`` FastAPI route (no thread-pool hop) under ``torch.inference_mode()``,
and Mangum in front, so it takes the same API Gateway events as this project's entry point. Threads
match this project's default (``PEER_THREADS``, default 1).
"""

from __future__ import annotations

import os
from typing import Any

import torch
from fastapi import FastAPI
from mangum import Mangum
from pydantic import BaseModel

from model_export.digits_torch import DigitsCNN

torch.set_num_threads(int(os.environ.get("PEER_THREADS", "1")))
model = DigitsCNN()
model.load_state_dict(torch.load(os.environ["PEER_WEIGHTS"], weights_only=True))
model.eval()
with torch.inference_mode():
    model(torch.zeros(1, 1, 8, 8))

app = FastAPI()


class PredictRequest(BaseModel):
    instances: list[Any]


@app.post("/predict")
async def predict(request: PredictRequest) -> dict[str, Any]:
    with torch.inference_mode():
        x = torch.tensor(request.instances, dtype=torch.float32).reshape(-1, 1, 8, 8)
        probabilities = torch.softmax(model(x), dim=1)
    labels = probabilities.argmax(dim=1)
    return {
        "predictions": [
            {"label": str(int(label)), "score": float(row[label]), "probabilities": row.tolist()}
            for label, row in zip(labels, probabilities, strict=True)
        ]
    }


handler = Mangum(app, lifespan="off")
