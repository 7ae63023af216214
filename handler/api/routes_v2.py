"""The Open Inference Protocol (KServe / Triton "v2") REST API, so standard clients work unchanged.

Each model route exists with and without ``/versions/{model_version}``; the pairs are thin and share one
implementation, so the OpenAPI document describes each path exactly. The infer routes also serve the
binary tensor data extension (handler.binary_tensors) for requests with Inference-Header-Content-Length.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from handler import __version__
from handler.api.deps import Plane, ReadyPlane, ready_plane
from handler.api.fast_json import FastJsonRoute
from handler.api.routes_health import NOT_READY
from handler.api.schemas import (
    BODY_REFUSALS,
    INFER_OK,
    INFER_OPENAPI,
    ErrorResponse,
    InferenceResponse,
    ModelMetadata,
    ModelReady,
    RepositoryEntry,
    ServerLive,
    ServerMetadata,
    ServerReady,
    TensorMetadata,
)
from handler.binary_tensors import HEADER
from handler.dataplane import DataPlane, Inferred
from handler.infer_bodies import binary_inferred, rendered
from handler.model import PLATFORM
from handler.protocol_extensions import SERVED
from handler.repository import index_entries, version_order
from handler.request_bodies import BinaryInferenceRequest, InferenceRequest
from handler.signature import TensorSpec


class InferRoute(FastJsonRoute):
    """An infer route that also serves the binary tensor data extension.

    FastAPI reads a body as JSON only when it is declared JSON (or not declared at all), so it would refuse
    the application/octet-stream Triton's client sends. A request carrying Inference-Header-Content-Length
    is served by ``_binary_infer`` before FastAPI reads the body; every other request goes to FastAPI's own
    handler untouched, so the JSON path costs one header lookup more and nothing else.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler for JSON requests, ``_binary_infer`` for binary ones."""
        json_handler = super().get_route_handler()

        async def handler(request: Request) -> Response:
            declared = request.headers.get(HEADER)
            if declared is None:
                return await json_handler(request)
            return await _binary_infer(request, declared)

        return handler


router = APIRouter(prefix="/v2", tags=["open inference protocol"])
infer_router = APIRouter(prefix="/v2", tags=["open inference protocol"], route_class=InferRoute)

UNKNOWN_MODEL: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "Unknown model or version"},
    **NOT_READY,
}
INFER_RESPONSES: dict[int | str, dict[str, Any]] = {
    **INFER_OK,
    400: {
        "model": ErrorResponse,
        "description": "Malformed JSON, a tensor name, shape or datatype that does not fit, or binary lengths that lie",
    },
    **BODY_REFUSALS,
    422: {"model": ErrorResponse, "description": "Body of the wrong structure, or an output JSON cannot carry"},
    **UNKNOWN_MODEL,
}


@router.get("", response_model=ServerMetadata)
async def server_metadata(plane: Plane) -> ServerMetadata:
    """Server name, version, protocol extensions, and the names of the models served."""
    names = sorted(plane.repository.versions) if plane.repository else []
    return ServerMetadata(name="onnx-lambda", version=__version__, extensions=list(SERVED), models=names)


@router.get("/models", response_model=list[RepositoryEntry], responses=NOT_READY)
async def model_index(plane: ReadyPlane) -> list[RepositoryEntry]:
    """Every model version served (MODEL_PATH may be a directory of models), each READY."""
    return [RepositoryEntry(**entry) for entry in index_entries(plane.repository)] if plane.repository else []


@router.post("/repository/index", response_model=list[RepositoryEntry], responses=NOT_READY)
async def repository_index(plane: ReadyPlane) -> list[RepositoryEntry]:
    """Triton's repository index (what tritonclient's get_model_repository_index calls): the same list."""
    return await model_index(plane)


@router.get("/health/live", response_model=ServerLive)
async def server_live() -> ServerLive:
    """Always true while the function answers."""
    return ServerLive(live=True)


@router.get("/health/ready", response_model=ServerReady, responses=NOT_READY)
async def server_ready(_: ReadyPlane) -> ServerReady:
    """True once every model has loaded and warmed up; 503 before."""
    return ServerReady(live=True, ready=True)


def _tensor_metadata(spec: TensorSpec) -> TensorMetadata:
    return TensorMetadata(name=spec.name, datatype=spec.datatype, shape=list(spec.shape), description=spec.description)


def _metadata(plane: DataPlane, name: str, version: str | None) -> ModelMetadata:
    info = plane.find(name, version).info
    versions = plane.repository.versions[name] if plane.repository else {}
    return ModelMetadata(
        name=info.name,
        versions=[info.version] if version else sorted(versions, key=version_order),
        platform=PLATFORM,
        inputs=[_tensor_metadata(spec) for spec in info.inputs],
        outputs=[_tensor_metadata(spec) for spec in info.tensor_outputs],
        parameters=dict(info.metadata),  # strings, as the protocol's $parameters takes (JSON ones as JSON text)
    )


@router.get("/models/{model_name}", response_model=ModelMetadata, responses=UNKNOWN_MODEL)
async def model_metadata(model_name: str, plane: ReadyPlane) -> ModelMetadata:
    """The model's versions, and the inputs and outputs (from the ONNX graph) and metadata_props of the latest."""
    return _metadata(plane, model_name, None)


@router.get("/models/{model_name}/versions/{model_version}", response_model=ModelMetadata, responses=UNKNOWN_MODEL)
async def model_version_metadata(model_name: str, model_version: str, plane: ReadyPlane) -> ModelMetadata:
    """The same as the unversioned form, for one version."""
    return _metadata(plane, model_name, model_version)


@router.get("/models/{model_name}/ready", response_model=ModelReady, responses=UNKNOWN_MODEL)
async def model_ready(model_name: str, plane: ReadyPlane) -> ModelReady:
    """200 when the named model is ready to infer."""
    plane.find(model_name, None)
    return ModelReady(name=model_name, ready=True)


@router.get("/models/{model_name}/versions/{model_version}/ready", response_model=ModelReady, responses=UNKNOWN_MODEL)
async def model_version_ready(model_name: str, model_version: str, plane: ReadyPlane) -> ModelReady:
    """200 when the named version is ready to infer."""
    plane.find(model_name, model_version)
    return ModelReady(name=model_name, ready=True)


def _answer(request: BinaryInferenceRequest, inferred: Inferred) -> Response:
    """The answer as the request asks it (handler.infer_bodies.rendered)."""
    body, fields = rendered(request, inferred)
    media_type = dict(fields)["content-type"]
    return Response(
        body, media_type=media_type, headers={name: value for name, value in fields if name != "content-type"}
    )


def _binary_request(header: dict[str, Any]) -> BinaryInferenceRequest:
    """The JSON part checked as FastAPI checks a JSON body, so its mistakes get the same status and words."""
    try:
        return BinaryInferenceRequest.model_validate(header)
    except ValidationError as exc:
        raise RequestValidationError([{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]) from None


async def _binary_infer(request: Request, declared: str) -> Response:
    """POST .../infer in the binary form (handler.infer_bodies), once the models are ready (503 before)."""
    plane = await ready_plane(request)
    name, version = request.path_params["model_name"], request.path_params.get("model_version")
    return _answer(*binary_inferred(plane, name, version, await request.body(), declared, validate=_binary_request))


@infer_router.post(
    "/models/{model_name}/infer",
    response_model=InferenceResponse,
    responses=INFER_RESPONSES,
    openapi_extra=INFER_OPENAPI,
)
async def infer(model_name: str, request: InferenceRequest, plane: ReadyPlane) -> Response:
    """Run the model (its latest version) on the request's tensors; returns the requested outputs (all when none
    are named)."""
    return _answer(request, plane.infer_json(plane.find(model_name), request))


@infer_router.post(
    "/models/{model_name}/versions/{model_version}/infer",
    response_model=InferenceResponse,
    responses=INFER_RESPONSES,
    openapi_extra=INFER_OPENAPI,
)
async def infer_version(model_name: str, model_version: str, request: InferenceRequest, plane: ReadyPlane) -> Response:
    """The same as the unversioned form, for one version."""
    return _answer(request, plane.infer_json(plane.find(model_name, model_version), request))
