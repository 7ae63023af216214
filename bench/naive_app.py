"""The naive app: the digits ONNX model behind FastAPI + Mangum the way a tutorial writes it, no more.

onnxruntime's default session options (threads matched to this project's, ``PEER_THREADS``, so the two
answer the same work alike), an ``async def`` route with a pydantic body, numpy in and out, Mangum in front
with lifespan off. No limits, no error shaping, no logs or metrics, one route: what this project's features
cost per request and at cold start is measured against it.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import onnxruntime as ort
from fastapi import FastAPI
from mangum import Mangum
from pydantic import BaseModel

options = ort.SessionOptions()
options.intra_op_num_threads = int(os.environ.get("PEER_THREADS", "1"))
session = ort.InferenceSession(os.environ["MODEL_PATH"], options, providers=["CPUExecutionProvider"])

app = FastAPI()


class PredictRequest(BaseModel):
    instances: list[Any]


@app.post("/predict")
async def predict(request: PredictRequest) -> dict[str, Any]:
    x = np.asarray(request.instances, dtype=np.float32).reshape(-1, 1, 8, 8)
    labels, probabilities = session.run(None, {"input": x})
    return {
        "predictions": [
            {"label": str(label), "score": float(row.max()), "probabilities": row.tolist()}
            for label, row in zip(labels, probabilities, strict=True)
        ]
    }


handler = Mangum(app, lifespan="off")
