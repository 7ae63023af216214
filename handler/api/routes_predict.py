"""POST /predict: the friendly endpoint for people who just want labels and probabilities from curl."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from handler.api.deps import ReadyModel
from handler.api.fast_json import FastJsonResponse, FastJsonRoute
from handler.api.routes_health import NOT_READY
from handler.api.schemas import BODY_REFUSALS, ErrorResponse, PredictRequest, PredictResponse
from handler.codec import ensure_finite, instances_to_feeds
from handler.observability import observed_infer
from handler.predictions import prediction_dicts

router = APIRouter(tags=["predict"], route_class=FastJsonRoute)

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Malformed JSON or instances that do not fit the model"},
    **BODY_REFUSALS,
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
    predictions = prediction_dicts(info, results)
    return FastJsonResponse({"model_name": info.name, "model_version": info.version, "predictions": predictions})
