"""Triton's HTTP extensions beyond the Open Inference Protocol, as tritonclient calls them: statistics
(``.../stats``), model configuration (``.../config``), and model control (``/v2/repository/models/{name}/load``,
``unload``), which a function whose models are fixed at INIT refuses in words.

Included before the protocol's own routes, so ``/v2/models/stats`` is never read as a model named "stats".
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from handler.api.deps import ReadyPlane
from handler.api.routes_health import NOT_READY
from handler.api.routes_v2 import UNKNOWN_MODEL
from handler.api.schemas import ErrorResponse
from handler.dataplane import DataPlane
from handler.errors import BadRequest
from handler.model_config import triton_config
from handler.repository import version_order

router = APIRouter(prefix="/v2", tags=["triton extensions"])


def _statistics(plane: DataPlane, name: str | None, version: str | None) -> dict[str, Any]:
    """Triton's $stats_model_response: every served version (or the named model's, or one version), this
    instance's figures since INIT (a version not yet run has zeros)."""
    repository = plane.repository
    if repository is None:
        return {"model_stats": []}
    if name is not None:
        plane.find(name, version)  # NotFound naming what is served
    chosen = [
        entry.model
        for model_name, versions in sorted(repository.versions.items())
        for model_version, entry in sorted(versions.items(), key=lambda item: version_order(item[0]))
        if name in (None, model_name) and version in (None, model_version)
    ]
    return {"model_stats": [plane.statistics_of(model).as_json() for model in chosen]}


@router.get("/models/stats", responses=NOT_READY)
async def all_statistics(plane: ReadyPlane) -> dict[str, Any]:
    """Triton's statistics extension for every model served: counts and cumulative durations on this instance."""
    return _statistics(plane, None, None)


@router.get("/models/{model_name}/stats", responses=UNKNOWN_MODEL)
async def model_statistics(model_name: str, plane: ReadyPlane) -> dict[str, Any]:
    """The same for every version of one model."""
    return _statistics(plane, model_name, None)


@router.get("/models/{model_name}/versions/{model_version}/stats", responses=UNKNOWN_MODEL)
async def version_statistics(model_name: str, model_version: str, plane: ReadyPlane) -> dict[str, Any]:
    """The same for one version."""
    return _statistics(plane, model_name, model_version)


@router.get("/models/{model_name}/config", responses=UNKNOWN_MODEL)
async def model_config(model_name: str, plane: ReadyPlane) -> dict[str, Any]:
    """Triton's model configuration for the model's latest version: max_batch_size, inputs and outputs with their
    data types and dims, an image input's format, the metadata_props as parameters."""
    return triton_config(plane.find(model_name))


@router.get("/models/{model_name}/versions/{model_version}/config", responses=UNKNOWN_MODEL)
async def version_config(model_name: str, model_version: str, plane: ReadyPlane) -> dict[str, Any]:
    """The same for one version."""
    return triton_config(plane.find(model_name, model_version))


MODELS_FIXED = (
    "models are fixed when this function starts (INIT loads MODEL_PATH): {action} is not supported; deploy a new "
    "version of the function (or of the model folder) to change what is served"
)


@router.post("/repository/models/{model_name}/load", responses={400: {"model": ErrorResponse}}, include_in_schema=False)
async def model_load(model_name: str) -> None:
    """Triton's model control extension, refused as Triton refuses it when models are not loaded on request."""
    raise BadRequest(f"model {model_name!r}: " + MODELS_FIXED.format(action="loading a model on request"))


@router.post(
    "/repository/models/{model_name}/unload", responses={400: {"model": ErrorResponse}}, include_in_schema=False
)
async def model_unload(model_name: str) -> None:
    """The same for unloading."""
    raise BadRequest(f"model {model_name!r}: " + MODELS_FIXED.format(action="unloading a model"))
