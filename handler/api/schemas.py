"""Response bodies, one model per purpose; they are also what /openapi.json documents (the request bodies are
handler.request_bodies, shared with the SQS jobs)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from handler.binary_tensors import HEADER_NAME, OCTET_STREAM
from handler.request_bodies import Parameters


class ErrorResponse(BaseModel):
    """The one error shape everywhere: what is wrong, where, and what was expected."""

    error: str = Field(examples=["input 'input' has shape [1, 64], which does not fit: expected ..."])


class TensorMetadata(BaseModel):
    """A model input or output as the protocol describes it; -1 marks a dynamic dimension."""

    name: str
    datatype: str
    shape: list[int]
    description: str | None = Field(default=None, description="What the tensor means, from the model's metadata")


class ServerMetadata(BaseModel):
    """GET /v2; ``models`` (beyond the protocol's fields) names what this function serves."""

    name: str
    version: str
    extensions: list[str]
    models: list[str] = []


class RepositoryEntry(BaseModel):
    """One served model version, in Triton's repository index form."""

    name: str
    version: str
    state: str


class ServerLive(BaseModel):
    """GET /v2/health/live."""

    live: bool


class ServerReady(BaseModel):
    """GET /v2/health/ready. ``live`` too: the protocol's text gives this answer's object as ``{"live": $bool}``
    (its live object, copied), KServe answers ``ready``; a client reading either finds it."""

    live: bool
    ready: bool


class ModelReady(BaseModel):
    """GET /v2/models/{name}/ready."""

    name: str
    ready: bool


class ModelMetadata(BaseModel):
    """GET /v2/models/{name}: the signature from the graph plus what its metadata_props say."""

    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]
    parameters: Parameters = Field(
        default_factory=dict,
        description="The model's metadata_props as strings (the protocol's parameters are scalars; a JSON-valued one, "
        "such as class_labels, is its JSON text)",
    )


class ResponseOutput(BaseModel):
    """One output tensor, data flat in row-major order."""

    name: str
    shape: list[int]
    datatype: str
    parameters: Parameters | None = None
    data: list[Any]


class InferenceResponse(BaseModel):
    """The answer to an inference request; ``id`` echoes the request's."""

    model_name: str
    model_version: str | None = None
    id: str | None = None
    parameters: Parameters | None = None
    outputs: list[ResponseOutput]


class Prediction(BaseModel):
    """One instance's result: label and probabilities for classifiers, the text for generators, raw outputs
    otherwise."""

    label: str | None = None
    score: float | None = Field(default=None, description="Probability of the predicted label")
    probabilities: dict[str, float] | None = None
    text: str | None = Field(default=None, description="What a generator (a model exported with a vocabulary) wrote")
    outputs: dict[str, Any] | None = None


class PredictResponse(BaseModel):
    """The answer to /predict, one prediction per instance, in order."""

    model_name: str
    model_version: str
    predictions: list[Prediction]


class ModelSummary(BaseModel):
    """The served model as /health reports it."""

    name: str
    version: str
    task: str


class InitSummary(BaseModel):
    """How this instance was initialised (Lambda INIT, before any request)."""

    initialization_type: str
    threads: int
    session_ms: float
    warmup_ms: float


class Health(BaseModel):
    """GET /health: liveness plus readiness."""

    status: str
    live: bool
    ready: bool
    model: ModelSummary | None = None
    init: InitSummary | None = None


# Refusals every route with a body can give before looking at it.
BODY_REFUSALS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorResponse, "description": "Body or batch over the configured limits"},
    415: {
        "model": ErrorResponse,
        "description": "An image body for a model that takes tensors, or an image type no decoder reads",
    },
}

# What the infer routes take and give beyond the JSON models above: the binary tensor data extension.
# FastAPI documents only the JSON body it validates; these are merged into each infer operation.
_BINARY_BODY = (
    "Binary tensor data extension: the JSON request (as for application/json, except that an input may give "
    "`parameters.binary_data_size` instead of `data`), then those inputs' bytes in their order: little-endian, "
    "row-major, BOOL one byte (0 or 1), BYTES a 4-byte little-endian length then the bytes. "
    f"The {HEADER_NAME} header gives the length of the JSON part and selects this form, whatever the content type."
)
INFER_OPENAPI: dict[str, Any] = {
    "parameters": [
        {
            "name": HEADER_NAME,
            "in": "header",
            "required": False,
            "schema": {"type": "integer", "minimum": 0},
            "description": "Length in bytes of the JSON request at the start of a binary-extension body",
        }
    ],
    "requestBody": {
        "content": {OCTET_STREAM: {"schema": {"type": "string", "format": "binary", "description": _BINARY_BODY}}}
    },
}
INFER_OK: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "The outputs as JSON; or, when a binary-extension request asks for binary outputs (`binary_data` on "
            "an output, `binary_data_output` on the request), the JSON response, whose binary outputs give "
            "`parameters.binary_data_size` instead of `data`, then their bytes in order"
        ),
        "content": {OCTET_STREAM: {"schema": {"type": "string", "format": "binary"}}},
        "headers": {
            HEADER_NAME: {
                "description": "Length in bytes of the JSON part of a binary response",
                "schema": {"type": "integer"},
            }
        },
    }
}
