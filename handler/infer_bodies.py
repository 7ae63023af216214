"""An infer request's body to its answer's bytes, the one way for the app's routes (handler.api.routes_v2) and the
thin path (handler.thin_path): the binary extension's body read, checked and run, and any answer rendered as the
request asks (the outputs asked for as binary_data in the extension's bytes, else JSON).

No FastAPI here. A JSON header of the wrong structure is each carrier's to answer: ``validate`` raises what its
carrier turns into its answer (the route FastAPI's RequestValidationError, so it reads as a JSON body's would).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from handler.answers import JSON, json_bytes
from handler.binary_tensors import (
    HEADER_NAME,
    OCTET_STREAM,
    binary_outputs,
    decode_inputs,
    encode_response,
    parse_header,
    split_body,
)
from handler.dataplane import DataPlane, Inferred, encoded_inputs, request_specs
from handler.raw_binary import raw_request
from handler.request_bodies import BinaryInferenceRequest

Validate = Callable[[dict[str, Any]], BinaryInferenceRequest]


def binary_inferred(
    plane: DataPlane, name: str, version: str | None, body: bytes, declared: str, *, validate: Validate
) -> tuple[BinaryInferenceRequest, Inferred]:
    """POST .../infer in the binary form, Inference-Header-Content-Length ``declared``: body and model checks in the
    JSON route's order; 0 declares a raw body, the one input's bytes."""
    if declared.strip().isdigit() and not declared.strip().lstrip("0"):
        model = plane.find(name, version)
        raw, feeds = raw_request(model, body)
        return raw, plane.infer(model, raw, feeds)
    header, binary = split_body(body, declared)
    infer_request = validate(parse_header(header))
    model = plane.find(name, version)
    feeds = decode_inputs(infer_request.inputs, binary, request_specs(model), encoded_inputs(model))
    return infer_request, plane.infer(model, infer_request, feeds)


def rendered(request: BinaryInferenceRequest, inferred: Inferred) -> tuple[bytes, list[tuple[str, str]]]:
    """The answer's body and headers, whatever carried its inputs (as Triton does): those outputs asked for as
    binary_data in an octet-stream with Inference-Header-Content-Length, else plain JSON."""
    as_bytes = binary_outputs(request.parameters, request.outputs, inferred.results)
    if not as_bytes:
        return json_bytes(inferred.json_body()), [("content-type", JSON)]
    answer, length = encode_response(inferred.head(), inferred.results, as_bytes)
    return answer, [(HEADER_NAME.lower(), str(length)), ("content-type", OCTET_STREAM)]
