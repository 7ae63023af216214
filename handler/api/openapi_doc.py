"""The OpenAPI document as served: FastAPI's own, plus what only the running function knows.

The model path parameters take exactly one name and one version here, so the document lists them as
the only values (an ``enum``): Swagger UI offers them in a drop-down, generated clients get constants,
and a fuzzer driven by the document reaches the routes' logic instead of stopping at 404 every time.
The request bodies get an example that this model accepts (one all-zero instance, as the warm-up runs),
so "Try it out" works as it opens, whatever the model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from handler.api.deps import ModelState
from handler.codec import to_json_list
from handler.model import ModelInfo, warmup_feeds

PATH_VALUES = {"model_name": lambda info: info.name, "model_version": lambda info: info.version}


def _pin_model(document: dict[str, Any], info: ModelInfo) -> None:
    """Give every model_name / model_version path parameter the served value as its only one."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                value_of = PATH_VALUES.get(parameter.get("name")) if parameter.get("in") == "path" else None
                if value_of is not None:
                    value = value_of(info)
                    parameter["schema"] = {**parameter["schema"], "enum": [value], "example": value}


def _body_examples(info: ModelInfo) -> dict[str, Any]:
    """A request body per operation kind that this model accepts: one all-zero instance."""
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


def install_served_openapi(app: FastAPI, state: ModelState) -> None:
    """Replace ``app.openapi`` so the document names the served model once it has loaded (built once then)."""
    build: Callable[[], dict[str, Any]] = app.openapi
    pinned = False

    def openapi() -> dict[str, Any]:
        nonlocal pinned
        document = build()  # FastAPI's, cached in app.openapi_schema after the first call
        if not pinned and state.model is not None:
            _pin_model(document, state.model.info)
            _set_examples(document, state.model.info)
            pinned = True
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the document
