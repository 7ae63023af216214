"""GET /health: one call that says whether this instance is alive, ready, and serving what."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from handler.api.deps import Plane
from handler.api.schemas import ErrorResponse, Health, InitSummary, ModelSummary

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
async def health(plane: Plane) -> JSONResponse:
    """Liveness and readiness: 200 once the model has loaded and answered its warm-up inference, else 503."""
    body = Health(status="loading", live=True, ready=False)
    if plane.model is not None and plane.report is not None:
        info, report = plane.model.info, plane.report
        body = Health(
            status="ok",
            live=True,
            ready=True,
            model=ModelSummary(name=info.name, version=info.version, task=info.task),
            init=InitSummary(
                initialization_type=report.initialization_type,
                threads=report.threads,
                session_ms=report.session_ms,
                warmup_ms=report.warmup_ms,
            ),
        )
    return JSONResponse(body.model_dump(exclude_none=True), status_code=200 if body.ready else 503)


NOT_READY: dict[int | str, dict[str, Any]] = {503: {"model": ErrorResponse, "description": "The model is not ready"}}
