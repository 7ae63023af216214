"""POST /predict: the friendly endpoint for people who just want labels and probabilities from curl."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from handler.api.deps import ReadyPlane
from handler.api.fast_json import FastJsonResponse
from handler.api.image_bodies import IMAGE_OPENAPI, PredictRoute, top_k_query
from handler.api.routes_health import NOT_READY
from handler.api.schemas import BODY_REFUSALS, ErrorResponse, PredictResponse
from handler.request_bodies import PredictRequest

router = APIRouter(tags=["predict"], route_class=PredictRoute)

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ErrorResponse,
        "description": "Malformed JSON, instances that do not fit the model, or an image that cannot be decoded",
    },
    **BODY_REFUSALS,
    422: {"model": ErrorResponse, "description": "Body of the wrong structure"},
    **NOT_READY,
}


@router.post("/predict", response_model=PredictResponse, responses=ERRORS, openapi_extra=IMAGE_OPENAPI)
async def predict(request: PredictRequest, plane: ReadyPlane, http: Request) -> JSONResponse:
    """Score instances: labels, the winning score and every class probability for classifiers, raw outputs else.
    An image model also takes the image itself as the body, or as multipart/form-data files."""
    top_k = top_k_query(http)
    if top_k is not None and request.top_k is None:
        request = request.model_copy(update={"top_k": top_k})
    return FastJsonResponse(plane.predict(request))
