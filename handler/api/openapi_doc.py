"""The OpenAPI document as served: FastAPI's own, plus what only the running function knows.

The model path parameters take only the served names and versions, so the document lists them as the
only values (an ``enum``): Swagger UI offers them in a drop-down, generated clients get constants, and
a fuzzer driven by the document reaches the routes' logic instead of stopping at 404 every time. The
request bodies get an example that the default model accepts (one all-zero instance, as the warm-up
runs, or a tabular model's records built from its column schema), so "Try it out" works as it opens,
whatever the model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from handler.codec import to_json_list
from handler.columns import example_records
from handler.dataplane import DataPlane
from handler.model import ModelInfo
from handler.repository import ModelRepository, version_order
from handler.warmup import warmup_feeds


def _pin_models(document: dict[str, Any], repository: ModelRepository) -> None:
    """Give every model_name / model_version path parameter the served values as its only ones, the default
    model's as the example (a document cannot tie a version to its name, so the versions are all of them)."""
    default = repository.default.model.info
    values = {
        "model_name": (sorted(repository.versions), default.name),
        "model_version": (
            sorted({v for vs in repository.versions.values() for v in vs}, key=version_order),
            default.version,
        ),
    }
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                known = values.get(parameter.get("name")) if parameter.get("in") == "path" else None
                if known is not None:
                    parameter["schema"] = {**parameter["schema"], "enum": known[0], "example": known[1]}


def _body_examples(info: ModelInfo) -> dict[str, Any]:
    """A request body per operation kind that this model accepts: one all-zero instance, or for a tabular model
    records of example values (with null where it takes a missing value)."""
    if info.columns is not None:
        records = example_records(info.columns)
        tensors = [
            {"name": column.name, "shape": [1, *column.spec.shape[1:]], "datatype": column.spec.datatype}
            | {"data": [records[0][column.name]]}
            for column in info.columns
        ]
        return {"infer": {"inputs": tensors}, "predict": {"instances": records}}
    feeds = warmup_feeds(info.inputs)
    tensors = [
        {"name": spec.name, "shape": list(feeds[spec.name].shape), "datatype": spec.datatype}
        | {"data": to_json_list(feeds[spec.name].ravel())}
        for spec in info.inputs
    ]
    first = {name: to_json_list(array[0]) for name, array in feeds.items()}
    instance = next(iter(first.values())) if len(first) == 1 else first
    return {"infer": {"inputs": tensors}, "predict": {"instances": [instance]}}


def _set_examples(document: dict[str, Any], info: ModelInfo) -> None:
    """The JSON request body of /predict and of each infer operation gets this model's example."""
    examples = _body_examples(info)
    for path, operations in document.get("paths", {}).items():
        kind = "infer" if path.endswith("/infer") else "predict" if path.endswith("/predict") else None
        body = operations.get("post", {}).get("requestBody", {}).get("content", {}).get("application/json")
        if kind and body is not None:
            body["example"] = examples[kind]


def install_served_openapi(app: FastAPI, plane: DataPlane) -> None:
    """Replace ``app.openapi`` so the document names the served models once they have loaded (built once then);
    the request examples are the default model's."""
    build: Callable[[], dict[str, Any]] = app.openapi
    pinned = False

    def openapi() -> dict[str, Any]:
        nonlocal pinned
        document = build()  # FastAPI's, cached in app.openapi_schema after the first call
        if not pinned and plane.repository is not None:
            _pin_models(document, plane.repository)
            _set_examples(document, plane.repository.default.model.info)
            pinned = True
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the document
