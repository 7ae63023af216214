"""Request and response bodies, one model per purpose; they are also what /openapi.json documents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator
from pydantic.config import JsonDict

from handler.binary_tensors import HEADER_NAME, OCTET_STREAM
from handler.signature import DATATYPE_TO_NUMPY

Parameters = dict[str, Any]

# What the codecs accept, stated in the document only: the codecs check these themselves with messages that
# name the input and the model's expectation, which pydantic's generic ones would not.
_TENSOR_NAME: JsonDict = {"minLength": 1}
_REQUEST_SHAPE: JsonDict = {"items": {"type": "integer", "minimum": 0}}
_DATATYPE: JsonDict = {"enum": list(DATATYPE_TO_NUMPY)}


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
    """GET /v2/health/ready."""

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
    parameters: Parameters = Field(default_factory=dict, description="The model's metadata_props, JSON decoded")


class BinaryRequestInput(BaseModel):
    """One input in the JSON part of a binary-extension request: no ``data`` when its bytes follow the JSON."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(json_schema_extra=_TENSOR_NAME)
    shape: list[StrictInt] = Field(json_schema_extra=_REQUEST_SHAPE)
    datatype: str = Field(examples=["FP32"], json_schema_extra=_DATATYPE)
    parameters: Parameters | None = None
    data: list[Any] | None = None


class RequestInput(BinaryRequestInput):
    """One input tensor; ``data`` is flat (row-major) or nested to match ``shape``."""

    data: list[Any]


class RequestOutput(BaseModel):
    """An output the client wants back; outputs not named are not computed."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(json_schema_extra=_TENSOR_NAME)
    parameters: Parameters | None = None


class BinaryInferenceRequest(BaseModel):
    """The JSON part of a binary-extension request (the first Inference-Header-Content-Length bytes)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    parameters: Parameters | None = None
    inputs: Sequence[BinaryRequestInput] = Field(min_length=1)
    outputs: list[RequestOutput] | None = None

    @field_validator("id")
    @classmethod
    def _id_is_text(cls, value: str | None) -> str | None:
        """The answer echoes the id, and JSON cannot carry the lone surrogate (an unpaired \\ud800-\\udfff escape)
        that json.loads lets through: refused here as a 422, not a crash rendering the answer."""
        try:
            (value or "").encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("holds a lone surrogate (an unpaired \\ud800-\\udfff escape); expected text") from None
        return value


class InferenceRequest(BinaryInferenceRequest):
    """POST /v2/models/{name}/infer."""

    inputs: list[RequestInput] = Field(min_length=1)


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


class PredictRequest(BaseModel):
    """POST /predict: one instance per row; an array for one-input models, else an object keyed by input."""

    model_config = ConfigDict(extra="forbid")

    instances: list[Any] = Field(
        min_length=1, examples=[[[0.0] * 64]], json_schema_extra={"items": {"not": {"type": "null"}}}
    )


class Prediction(BaseModel):
    """One instance's result: label and probabilities for classifiers, raw outputs otherwise."""

    label: str | None = None
    score: float | None = Field(default=None, description="Probability of the predicted label")
    probabilities: dict[str, float] | None = None
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
    415: {"model": ErrorResponse, "description": "A body that is not JSON (or, on infer, the binary extension)"},
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
