"""The Open Inference Protocol (KServe / Triton "v2") REST API, so standard clients work unchanged.

Each model route exists with and without ``/versions/{model_version}``; the pairs are thin and share one
implementation, so the OpenAPI document describes each path exactly.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from handler import __version__
from handler.api.deps import ReadyModel, check_model_path
from handler.api.routes_health import NOT_READY
from handler.api.schemas import (
    ErrorResponse,
    InferenceRequest,
    InferenceResponse,
    ModelMetadata,
    ModelReady,
    ServerLive,
    ServerMetadata,
    ServerReady,
    TensorMetadata,
)
from handler.codec import decode_tensor, encode_tensor
from handler.errors import BadRequest
from handler.model import PLATFORM, OnnxModel
from handler.observability import observed_infer
from handler.signature import TensorSpec

router = APIRouter(prefix="/v2", tags=["open inference protocol"])

UNKNOWN_MODEL: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "Unknown model or version"},
    **NOT_READY,
}
INFER_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ErrorResponse,
        "description": "Malformed JSON, or a tensor name, shape or datatype that does not fit",
    },
    413: {"model": ErrorResponse, "description": "Body or batch over the configured limits"},
    422: {"model": ErrorResponse, "description": "Body of the wrong structure, or an output JSON cannot carry"},
    **UNKNOWN_MODEL,
}


@router.get("", response_model=ServerMetadata)
async def server_metadata() -> ServerMetadata:
    """Server name, version and protocol extensions."""
    return ServerMetadata(name="onnx-lambda", version=__version__, extensions=[])


@router.get("/health/live", response_model=ServerLive)
async def server_live() -> ServerLive:
    """Always true while the function answers."""
    return ServerLive(live=True)


@router.get("/health/ready", response_model=ServerReady, responses=NOT_READY)
async def server_ready(_: ReadyModel) -> ServerReady:
    """True once the model has loaded and warmed up; 503 before."""
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


def _metadata(model: OnnxModel, name: str, version: str | None) -> ModelMetadata:
    check_model_path(model, name, version)
    info = model.info
    return ModelMetadata(
        name=info.name,
        versions=[info.version],
        platform=PLATFORM,
        inputs=[_tensor_metadata(spec) for spec in info.inputs],
        outputs=[_tensor_metadata(spec) for spec in info.tensor_outputs],
        parameters=_decoded_metadata(dict(info.metadata)),
    )


@router.get("/models/{model_name}", response_model=ModelMetadata, responses=UNKNOWN_MODEL)
async def model_metadata(model_name: str, model: ReadyModel) -> ModelMetadata:
    """The model's inputs and outputs (from the ONNX graph) and its metadata_props."""
    return _metadata(model, model_name, None)


@router.get("/models/{model_name}/versions/{model_version}", response_model=ModelMetadata, responses=UNKNOWN_MODEL)
async def model_version_metadata(model_name: str, model_version: str, model: ReadyModel) -> ModelMetadata:
    """The same as the unversioned form, for one version."""
    return _metadata(model, model_name, model_version)


@router.get("/models/{model_name}/ready", response_model=ModelReady, responses=UNKNOWN_MODEL)
async def model_ready(model_name: str, model: ReadyModel) -> ModelReady:
    """200 when the named model is ready to infer."""
    check_model_path(model, model_name, None)
    return ModelReady(name=model_name, ready=True)


@router.get("/models/{model_name}/versions/{model_version}/ready", response_model=ModelReady, responses=UNKNOWN_MODEL)
async def model_version_ready(model_name: str, model_version: str, model: ReadyModel) -> ModelReady:
    """200 when the named version is ready to infer."""
    check_model_path(model, model_name, model_version)
    return ModelReady(name=model_name, ready=True)


def _infer(model: OnnxModel, request: InferenceRequest, name: str, version: str | None) -> JSONResponse:
    check_model_path(model, name, version)
    specs = {spec.name: spec for spec in model.info.inputs}
    feeds: dict[str, np.ndarray] = {}
    for tensor in request.inputs:
        if tensor.name in feeds:
            raise BadRequest(f"input {tensor.name!r} appears more than once in 'inputs'")
        spec = specs.get(tensor.name)
        feeds[tensor.name] = decode_tensor(tensor.name, tensor.shape, tensor.datatype, tensor.data, spec)
    requested = [output.name for output in request.outputs] if request.outputs else None
    results = observed_infer(model, feeds, requested)
    body: dict[str, Any] = {"model_name": model.info.name, "model_version": model.info.version}
    if request.id is not None:
        body["id"] = request.id
    body["outputs"] = [encode_tensor(output, array) for output, array in results.items()]
    return JSONResponse(body)


@router.post("/models/{model_name}/infer", response_model=InferenceResponse, responses=INFER_ERRORS)
async def infer(model_name: str, request: InferenceRequest, model: ReadyModel) -> JSONResponse:
    """Run the model on the request's tensors; returns the requested outputs (all when none are named)."""
    return _infer(model, request, model_name, None)


@router.post(
    "/models/{model_name}/versions/{model_version}/infer", response_model=InferenceResponse, responses=INFER_ERRORS
)
async def infer_version(
    model_name: str, model_version: str, request: InferenceRequest, model: ReadyModel
) -> JSONResponse:
    """The same as the unversioned form, for one version."""
    return _infer(model, request, model_name, model_version)
