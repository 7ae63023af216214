"""The Open Inference Protocol (KServe / Triton "v2") REST API, so standard clients work unchanged.

Each model route exists with and without ``/versions/{model_version}``; the pairs are thin and share one
implementation, so the OpenAPI document describes each path exactly. The infer routes also serve the
binary tensor data extension (handler.binary_tensors) for requests with Inference-Header-Content-Length.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from handler import __version__
from handler.api.deps import ModelState, ReadyState, State, ready_state
from handler.api.fast_json import FastJsonResponse, FastJsonRoute
from handler.api.routes_health import NOT_READY
from handler.api.schemas import (
    BODY_REFUSALS,
    INFER_OK,
    INFER_OPENAPI,
    BinaryInferenceRequest,
    ErrorResponse,
    InferenceRequest,
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
    EXTENSION,
    HEADER,
    HEADER_NAME,
    OCTET_STREAM,
    binary_outputs,
    decode_inputs,
    encode_response,
    parse_header,
    split_body,
)
from handler.codec import decode_tensor, encode_tensor, ensure_new_input
from handler.errors import BadRequest
from handler.model import PLATFORM, OnnxModel
from handler.observability import observed_infer
from handler.repository import index_entries, version_order
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
async def server_metadata(state: State) -> ServerMetadata:
    """Server name, version, protocol extensions, and the names of the models served."""
    names = sorted(state.repository.versions) if state.repository else []
    return ServerMetadata(name="onnx-lambda", version=__version__, extensions=[EXTENSION], models=names)


@router.get("/models", response_model=list[RepositoryEntry], responses=NOT_READY)
async def model_index(state: ReadyState) -> list[RepositoryEntry]:
    """Every model version served (MODEL_PATH may be a directory of models), each READY."""
    return [RepositoryEntry(**entry) for entry in index_entries(state.repository)] if state.repository else []


@router.post("/repository/index", response_model=list[RepositoryEntry], responses=NOT_READY)
async def repository_index(state: ReadyState) -> list[RepositoryEntry]:
    """Triton's repository index (what tritonclient's get_model_repository_index calls): the same list."""
    return await model_index(state)


@router.get("/health/live", response_model=ServerLive)
async def server_live() -> ServerLive:
    """Always true while the function answers."""
    return ServerLive(live=True)


@router.get("/health/ready", response_model=ServerReady, responses=NOT_READY)
async def server_ready(_: ReadyState) -> ServerReady:
    """True once every model has loaded and warmed up; 503 before."""
    return ServerReady(ready=True)


def _tensor_metadata(spec: TensorSpec) -> TensorMetadata:
    return TensorMetadata(name=spec.name, datatype=spec.datatype, shape=list(spec.shape), description=spec.description)


def _decoded_metadata(metadata: dict[str, str]) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for key, value in metadata.items():
        try:
            decoded[key] = json.loads(value) if value[:1] in "[{" else value
        except json.JSONDecodeError:
            decoded[key] = value
    return decoded


def _metadata(state: ModelState, name: str, version: str | None) -> ModelMetadata:
    info = state.find(name, version).info
    versions = state.repository.versions[name] if state.repository else {}
    return ModelMetadata(
        name=info.name,
        versions=[info.version] if version else sorted(versions, key=version_order),
        platform=PLATFORM,
        inputs=[_tensor_metadata(spec) for spec in info.inputs],
        outputs=[_tensor_metadata(spec) for spec in info.tensor_outputs],
        parameters=_decoded_metadata(dict(info.metadata)),
    )


@router.get("/models/{model_name}", response_model=ModelMetadata, responses=UNKNOWN_MODEL)
async def model_metadata(model_name: str, state: ReadyState) -> ModelMetadata:
    """The model's versions, and the inputs and outputs (from the ONNX graph) and metadata_props of the latest."""
    return _metadata(state, model_name, None)


@router.get("/models/{model_name}/versions/{model_version}", response_model=ModelMetadata, responses=UNKNOWN_MODEL)
async def model_version_metadata(model_name: str, model_version: str, state: ReadyState) -> ModelMetadata:
    """The same as the unversioned form, for one version."""
    return _metadata(state, model_name, model_version)


@router.get("/models/{model_name}/ready", response_model=ModelReady, responses=UNKNOWN_MODEL)
async def model_ready(model_name: str, state: ReadyState) -> ModelReady:
    """200 when the named model is ready to infer."""
    state.find(model_name, None)
    return ModelReady(name=model_name, ready=True)


@router.get("/models/{model_name}/versions/{model_version}/ready", response_model=ModelReady, responses=UNKNOWN_MODEL)
async def model_version_ready(model_name: str, model_version: str, state: ReadyState) -> ModelReady:
    """200 when the named version is ready to infer."""
    state.find(model_name, model_version)
    return ModelReady(name=model_name, ready=True)


def _requested(request: BinaryInferenceRequest) -> list[str] | None:
    """The outputs the request names, or None for all of them; raises BadRequest for a classification request.

    Triton's classification extension (tritonclient's ``class_count``) is not served, and /v2 does not list it:
    answered as if absent, the client would get the whole tensor where it expects "score:index:label" strings.
    """
    for output in request.outputs or ():
        if "classification" in (output.parameters or {}):
            raise BadRequest(
                f"output {output.name!r}: parameters.classification (Triton's classification extension, "
                "class_count in tritonclient) is not supported: expected the output without it; its full tensor "
                "holds every class's value"
            )
    return [output.name for output in request.outputs] if request.outputs else None


def _response_head(model: OnnxModel, request_id: str | None) -> dict[str, Any]:
    """The response without its outputs: model name and version, and the request's id when it has one."""
    body: dict[str, Any] = {"model_name": model.info.name, "model_version": model.info.version}
    if request_id is not None:
        body["id"] = request_id
    return body


def _infer(state: ModelState, request: InferenceRequest, name: str, version: str | None) -> Response:
    model = state.find(name, version)
    specs = model.input_specs
    feeds: dict[str, np.ndarray] = {}
    for tensor in request.inputs:
        ensure_new_input(tensor.name, feeds)
        spec = specs.get(tensor.name)
        feeds[tensor.name] = decode_tensor(tensor.name, tensor.shape, tensor.datatype, tensor.data, spec)
    return _run_and_answer(model, request, feeds)


def _run_and_answer(model: OnnxModel, request: BinaryInferenceRequest, feeds: dict[str, np.ndarray]) -> Response:
    """Run the model and answer as the request asks, whatever carried its inputs (as Triton does): outputs asked
    for as binary_data in an octet-stream with Inference-Header-Content-Length, else plain JSON."""
    requested = _requested(request)
    names = requested or [spec.name for spec in model.info.tensor_outputs]
    as_bytes = binary_outputs(request.parameters, request.outputs, names)
    results = observed_infer(model, feeds, requested)
    if not as_bytes:
        body = _response_head(model, request.id)
        body["outputs"] = [encode_tensor(output, array) for output, array in results.items()]
        return FastJsonResponse(body)
    answer, length = encode_response(_response_head(model, request.id), results, as_bytes)
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
    state = await ready_state(request)
    header, binary = split_body(await request.body(), declared)
    infer_request = _binary_request(parse_header(header))
    model = state.find(request.path_params["model_name"], request.path_params.get("model_version"))
    feeds = decode_inputs(infer_request.inputs, binary, model.input_specs)
    return _run_and_answer(model, infer_request, feeds)


@infer_router.post(
    "/models/{model_name}/infer",
    response_model=InferenceResponse,
    responses=INFER_RESPONSES,
    openapi_extra=INFER_OPENAPI,
)
async def infer(model_name: str, request: InferenceRequest, state: ReadyState) -> Response:
    """Run the model (its latest version) on the request's tensors; returns the requested outputs (all when none
    are named)."""
    return _infer(state, request, model_name, None)


@infer_router.post(
    "/models/{model_name}/versions/{model_version}/infer",
    response_model=InferenceResponse,
    responses=INFER_RESPONSES,
    openapi_extra=INFER_OPENAPI,
)
async def infer_version(model_name: str, model_version: str, request: InferenceRequest, state: ReadyState) -> Response:
    """The same as the unversioned form, for one version."""
    return _infer(state, request, model_name, model_version)
