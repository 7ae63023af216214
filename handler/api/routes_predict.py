"""POST /predict: the friendly endpoint for people who just want labels and probabilities from curl."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from handler.api.deps import ReadyModel
from handler.api.routes_health import NOT_READY
from handler.api.schemas import ErrorResponse, PredictRequest, PredictResponse
from handler.codec import ensure_finite, instances_to_feeds, to_json_list
from handler.model import ModelInfo
from handler.observability import observed_infer

router = APIRouter(tags=["predict"])

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Malformed JSON or instances that do not fit the model"},
    413: {"model": ErrorResponse, "description": "Body or batch over the configured limits"},
    422: {"model": ErrorResponse, "description": "Body of the wrong structure"},
    **NOT_READY,
}


@router.post("/predict", response_model=PredictResponse, responses=ERRORS)
async def predict(request: PredictRequest, model: ReadyModel) -> JSONResponse:
    """Score instances: labels, the winning score and every class probability for classifiers, raw outputs else."""
    feeds = instances_to_feeds(request.instances, model.info.inputs)
    results = observed_infer(model, feeds)
    for name, array in results.items():
        ensure_finite(name, array)
    info = model.info
    predictions = _classifications(info, results) if info.probabilities_output else _raw_outputs(results)
    return JSONResponse({"model_name": info.name, "model_version": info.version, "predictions": predictions})


def _classifications(info: ModelInfo, results: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    probabilities = results[str(info.probabilities_output)]
    classes = probabilities.shape[1]
    labels = info.class_labels if info.class_labels and len(info.class_labels) == classes else None
    names = labels or [str(index) for index in range(classes)]
    winners = probabilities.argmax(axis=1).tolist()
    rows = probabilities.tolist()
    return [
        {"label": names[winner], "score": row[winner], "probabilities": dict(zip(names, row, strict=True))}
        for winner, row in zip(winners, rows, strict=True)
    ]


def _raw_outputs(results: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    columns = {name: to_json_list(array) for name, array in results.items()}
    count = len(next(iter(columns.values())))
    return [{"outputs": {name: values[index] for name, values in columns.items()}} for index in range(count)]
