"""The bodies an inference request can have, whichever way it arrives: an HTTP route or an SQS job.

The Open Inference Protocol's bodies ignore fields they do not know (the protocol's schemas allow more, KServe
ignores them, and Triton's own examples send ``model_name``); a known field of the wrong type is still refused.
/predict's body, this project's own, refuses unknown fields, so a misspelt ``instance`` is named.

They live outside the API layer because the jobs validate a message body with the very same models (and
get the same words for the same mistake) without going through HTTP. The OpenAPI document shows them too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator
from pydantic.config import JsonDict

from handler.protocol_extensions import shared_memory_input
from handler.signature import DATATYPE_TO_NUMPY

Parameters = dict[str, Any]

# What the codecs accept, stated in the document only: the codecs check these themselves with messages that
# name the input and the model's expectation, which pydantic's generic ones would not.
_TENSOR_NAME: JsonDict = {"minLength": 1}
_REQUEST_SHAPE: JsonDict = {"items": {"type": "integer", "minimum": 0}}
_DATATYPE: JsonDict = {"enum": list(DATATYPE_TO_NUMPY)}


class BinaryRequestInput(BaseModel):
    """One input in the JSON part of a binary-extension request: no ``data`` when its bytes follow the JSON."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(json_schema_extra=_TENSOR_NAME)
    shape: list[StrictInt] = Field(json_schema_extra=_REQUEST_SHAPE)
    datatype: str = Field(examples=["FP32"], json_schema_extra=_DATATYPE)
    parameters: Parameters | None = None
    data: list[Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_shared_memory(cls, raw: Any) -> Any:
        """An input in a shared-memory region (Triton's extension, not served) is refused naming why, before
        pydantic would say only that its ``data`` is missing."""
        refusal = shared_memory_input(raw)
        if refusal:
            raise ValueError(refusal)
        return raw


class RequestInput(BinaryRequestInput):
    """One input tensor; ``data`` is flat (row-major) or nested to match ``shape``."""

    data: list[Any]


class RequestOutput(BaseModel):
    """An output the client wants back; outputs not named are not computed."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(json_schema_extra=_TENSOR_NAME)
    parameters: Parameters | None = None


class BinaryInferenceRequest(BaseModel):
    """The JSON part of a binary-extension request (the first Inference-Header-Content-Length bytes)."""

    model_config = ConfigDict(extra="ignore")

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


class DataFrameSplit(BaseModel):
    """MLflow's ``dataframe_split`` (pandas' ``to_dict(orient="split")``): column names, then rows of values."""

    model_config = ConfigDict(extra="forbid")

    columns: list[str] = Field(min_length=1)
    data: list[list[Any]] = Field(min_length=1)
    index: list[Any] | None = None  # pandas writes it; predictions come back in row order, so it is not needed


_FORMS = ("instances", "inputs", "dataframe_split", "dataframe_records")


class PredictRequest(BaseModel):
    """POST /predict: rows as ``instances`` (an array each for one-input models, else an object keyed by input or
    column), ``inputs`` (one array per column or input, or rows), or MLflow's ``dataframe_split`` /
    ``dataframe_records``. In a row or column of a model that imputes it, null (or an absent column) is missing."""

    model_config = ConfigDict(extra="forbid")

    instances: list[Any] | None = Field(
        default=None, min_length=1, examples=[[[0.0] * 64]], json_schema_extra={"items": {"not": {"type": "null"}}}
    )
    inputs: dict[str, Any] | list[Any] | None = Field(
        default=None, description="Columns: {name: [value per row]}; or rows, as in instances"
    )
    dataframe_split: DataFrameSplit | None = None
    dataframe_records: list[Any] | None = Field(default=None, min_length=1, description="Rows, as in instances")
    top_k: StrictInt | None = Field(
        default=None,
        ge=1,
        description="For classifiers: give each instance's k most probable classes only, best first",
    )

    @model_validator(mode="after")
    def _one_form(self) -> PredictRequest:
        given = [form for form in _FORMS if getattr(self, form) is not None]
        if len(given) != 1:
            found = f"got {', '.join(given)}" if given else "got none"
            raise ValueError(f"expected exactly one of {', '.join(_FORMS)}; {found}")
        return self

    def rows_form(self) -> tuple[str, Any]:
        """The form the rows came in and its value."""
        form = next(form for form in _FORMS if getattr(self, form) is not None)
        return form, getattr(self, form)


def _location(loc: Sequence[Any]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def invalid_fields(errors: Sequence[Any]) -> str:
    """pydantic's errors for a body of the wrong structure, in words: where each is, what is wrong, what came (its
    type, or a short scalar), the first five of them."""
    parts = []
    for error in errors[:5]:
        got = error.get("input")
        shown = json.dumps(got)[:80] if isinstance(got, str | int | float | bool) else type(got).__name__
        where = _location(error.get("loc", ())) or "the body"  # a rule on the whole body has no location
        parts.append(f"{where}: {error.get('msg')} (got {shown})")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more
