"""Route dependencies: the data plane, and the model it serves by default once it is ready (503 before)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from handler.dataplane import NOT_READY, DataPlane
from handler.errors import NotReady


# Both dependencies are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in a worker
# thread, and under Mangum (a fresh event loop per invocation) that means starting a thread for every
# request, about 1 ms each. Neither depends on another: each level of FastAPI's dependency solving costs
# every request.
async def dataplane(request: Request) -> DataPlane:
    """The app's DataPlane (set by create_app), ready or not: /health and /v2 report on it either way."""
    plane: DataPlane = request.app.state.dataplane
    return plane


async def ready_plane(request: Request) -> DataPlane:
    """The data plane once every model is ready, else 503 (NotReady)."""
    plane: DataPlane = request.app.state.dataplane
    if plane.repository is None:  # not plane.find(): the route looks its model up once, itself
        raise NotReady(NOT_READY)
    return plane


Plane = Annotated[DataPlane, Depends(dataplane)]
ReadyPlane = Annotated[DataPlane, Depends(ready_plane)]
