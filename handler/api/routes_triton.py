"""Triton's HTTP extensions beyond the Open Inference Protocol, as tritonclient calls them: statistics
(``.../stats``), model configuration (``.../config``), and the endpoints of the extensions not served (model
control, shared memory, trace, logging), each refused with handler.protocol_extensions' reason rather than a 404
that would read as a broken server.

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
from handler.model_config import triton_config
from handler.protocol_extensions import refuse
from handler.repository import version_order

router = APIRouter(prefix="/v2", tags=["triton extensions"])
REFUSED_ANSWER: dict[int | str, dict[str, Any]] = {400: {"model": ErrorResponse}}


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


@router.post("/repository/models/{model_name}/load", responses=REFUSED_ANSWER, include_in_schema=False)
async def model_load(model_name: str) -> None:
    """Triton's model control extension, refused as Triton refuses it when models are not loaded on request."""
    raise refuse("model_repository", f"model {model_name!r}")


@router.post("/repository/models/{model_name}/unload", responses=REFUSED_ANSWER, include_in_schema=False)
async def model_unload(model_name: str) -> None:
    """The same for unloading."""
    raise refuse("model_repository", f"model {model_name!r}")


@router.api_route("/{memory}sharedmemory/{path:path}", methods=["GET", "POST"], include_in_schema=False)
async def shared_memory(memory: str, path: str) -> None:
    """Triton's system and CUDA shared-memory extensions (status, register, unregister), refused in words."""
    raise refuse("shared_memory", f"{memory}sharedmemory/{path}")


@router.api_route("/trace/setting", methods=["GET", "POST"], include_in_schema=False)
@router.api_route("/models/{model_name}/trace/setting", methods=["GET", "POST"], include_in_schema=False)
async def trace_setting() -> None:
    """Triton's trace extension, refused in words."""
    raise refuse("trace", "trace/setting")


@router.api_route("/logging", methods=["GET", "POST"], include_in_schema=False)
async def logging_setting() -> None:
    """Triton's logging extension, refused in words."""
    raise refuse("logging", "logging")
