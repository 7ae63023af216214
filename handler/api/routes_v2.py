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
from handler.api.fast_json import FastJsonResponse, FastJsonRoute
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
from handler.binary_tensors import (
    HEADER,
    HEADER_NAME,
    OCTET_STREAM,
    binary_outputs,
    decode_inputs,
    encode_response,
    parse_header,
    split_body,
)
from handler.dataplane import DataPlane, Inferred, encoded_inputs, request_specs
from handler.model import PLATFORM
from handler.protocol_extensions import SERVED
from handler.raw_binary import raw_request
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
    """Render the outputs as the request asks, whatever carried its inputs (as Triton does): those asked for as
    binary_data in an octet-stream with Inference-Header-Content-Length, else plain JSON."""
    as_bytes = binary_outputs(request.parameters, request.outputs, inferred.results)
    if not as_bytes:
        return FastJsonResponse(inferred.json_body())
    answer, length = encode_response(inferred.head(), inferred.results, as_bytes)
    return Response(answer, media_type=OCTET_STREAM, headers={HEADER_NAME: str(length)})


def _binary_request(header: dict[str, Any]) -> BinaryInferenceRequest:
    """The JSON part checked as FastAPI checks a JSON body, so its mistakes get the same status and words."""
    try:
        return BinaryInferenceRequest.model_validate(header)
    except ValidationError as exc:
        raise RequestValidationError([{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]) from None


async def _binary_infer(request: Request, declared: str) -> Response:
    """POST .../infer in the binary form: 503, body and model checks in the JSON route's order, then the answer
    in binary when any output is asked for that way (octet-stream with the header's length), else JSON."""
    plane = await ready_plane(request)
    body = await request.body()
    if declared.strip().isdigit() and not declared.strip().lstrip("0"):  # 0: the body is the one input's raw bytes
        model = plane.find(request.path_params["model_name"], request.path_params.get("model_version"))
        raw, feeds = raw_request(model, body)
        return _answer(raw, plane.infer(model, raw, feeds))
    header, binary = split_body(body, declared)
    infer_request = _binary_request(parse_header(header))
    model = plane.find(request.path_params["model_name"], request.path_params.get("model_version"))
    feeds = decode_inputs(infer_request.inputs, binary, request_specs(model), encoded_inputs(model))
    return _answer(infer_request, plane.infer(model, infer_request, feeds))


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
