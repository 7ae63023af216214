"""Route dependencies: the served model, refused with 503 until it has loaded and warmed up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from handler.errors import NotFound, NotReady
from handler.model import InitReport, OnnxModel


@dataclass
class ModelState:
    """What the app serves; ``model`` stays None until the warm-up inference has succeeded."""

    model: OnnxModel | None = None
    report: InitReport | None = None


# Both dependencies are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in a worker
# thread, and under Mangum (a fresh event loop per invocation) that means starting a thread for every
# request, about 1 ms each.
async def model_state(request: Request) -> ModelState:
    """The app's ModelState (set by create_app)."""
    state: ModelState = request.app.state.model_state
    return state


async def ready_model(request: Request) -> OnnxModel:
    """The model, or 503 while it is not ready (one dependency, not one on another: each level of
    FastAPI's dependency solving costs every request)."""
    state: ModelState = request.app.state.model_state
    if state.model is None:
        raise NotReady("the model is not ready yet (loading or warming up); retry shortly")
    return state.model


State = Annotated[ModelState, Depends(model_state)]
ReadyModel = Annotated[OnnxModel, Depends(ready_model)]


def check_model_path(model: OnnxModel, name: str, version: str | None) -> None:
    """404 unless the path names the served model (and, when given, its version)."""
    info = model.info
    if name != info.name:
        raise NotFound(f"model {name!r} is not served here; this endpoint serves {info.name!r}")
    if version is not None and version != info.version:
        raise NotFound(f"model {name!r} has no version {version!r}; the served version is {info.version!r}")
