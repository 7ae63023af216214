"""POST /predict: the friendly endpoint for people who just want labels and probabilities from curl."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from handler.api.deps import ReadyPlane
from handler.api.fast_json import FastJsonResponse, FastJsonRoute
from handler.api.routes_health import NOT_READY
from handler.api.schemas import BODY_REFUSALS, ErrorResponse, PredictResponse
from handler.request_bodies import PredictRequest

router = APIRouter(tags=["predict"], route_class=FastJsonRoute)

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Malformed JSON or instances that do not fit the model"},
    **BODY_REFUSALS,
    422: {"model": ErrorResponse, "description": "Body of the wrong structure"},
    **NOT_READY,
}


@router.post("/predict", response_model=PredictResponse, responses=ERRORS)
async def predict(request: PredictRequest, plane: ReadyPlane) -> JSONResponse:
    """Score instances: labels, the winning score and every class probability for classifiers, raw outputs else."""
    return FastJsonResponse(plane.predict(request))
