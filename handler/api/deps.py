"""Route dependencies: the served models, refused with 503 until they have loaded and warmed up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from handler.errors import NotReady
from handler.model import InitReport, OnnxModel
from handler.repository import ModelRepository


@dataclass
class ModelState:
    """What the app serves; ``repository`` stays None until every model's warm-up inference has succeeded."""

    repository: ModelRepository | None = None

    @property
    def model(self) -> OnnxModel | None:
        """The default model: what /predict, /health and batch scoring use."""
        return self.repository.default.model if self.repository else None

    @property
    def report(self) -> InitReport | None:
        """How the default model was loaded."""
        return self.repository.default.report if self.repository else None

    def find(self, name: str, version: str | None) -> OnnxModel:
        """The model a /v2 path names; 503 while loading, 404 naming what is served."""
        if self.repository is None:
            raise NotReady("the models are not ready yet (loading or warming up); retry shortly")
        return self.repository.find(name, version)


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


async def ready_state(request: Request) -> ModelState:
    """The state once every model is ready, else 503; the /v2 routes find their model in it by path."""
    state: ModelState = request.app.state.model_state
    if state.repository is None:
        raise NotReady("the models are not ready yet (loading or warming up); retry shortly")
    return state


ReadyState = Annotated[ModelState, Depends(ready_state)]
