"""Builds what one Lambda instance serves from a Settings object: the model, the HTTP adapter, the batch triggers.

The entry point calls this once at INIT with the environment's settings; tests call it with their own,
so the app they exercise is assembled exactly as the deployed one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from handler.contract import LambdaHandler
from handler.dataplane import DataPlane
from handler.errors import ModelLoadError
from handler.observability import logger
from handler.repository import load_repository
from handler.settings import Settings
from handler.thin_path import ThinPath

if TYPE_CHECKING:
    from handler.batch.triggers import BatchTriggers


@dataclass(frozen=True)
class Runtime:
    """The loaded model, the Mangum adapter in front of the FastAPI app, and (on demand) the batch triggers."""

    plane: DataPlane
    http: LambdaHandler
    settings: Settings

    @cached_property
    def batch(self) -> BatchTriggers:
        """Built on first use: an API function never imports the batch code (Powertools batch, S3
        streaming), which would add ~60 ms to its cold start. A batch function, which has INPUT_BUCKET
        set, builds it at INIT instead (see build_runtime)."""
        from handler.batch.triggers import BatchTriggers  # noqa: PLC0415

        return BatchTriggers(self.plane, self.settings)


def initialization_type() -> str:
    """on-demand or provisioned-concurrency in Lambda (its own variable), local elsewhere."""
    return os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") or (
        "on-demand" if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") else "local"
    )


def http_adapter(plane: DataPlane, settings: Settings) -> LambdaHandler:
    """Mangum around the app, lifespan off (it would run on every invocation), stage-aware, refusing unreadable
    requests with a JSON 400 (handler.http_events.EventAdapter). Imported here: with the thin path, an API function
    imports FastAPI, Starlette and Mangum only when a request needs the app."""
    from mangum import Mangum  # noqa: PLC0415

    from handler.api.app import create_app  # noqa: PLC0415
    from handler.http_events import EventAdapter, StagedHttpApi, StagedRestApi  # noqa: PLC0415

    app = create_app(plane, settings.max_body_bytes, settings.docs_assets_url)
    return EventAdapter(Mangum(app, lifespan="off", custom_handlers=[StagedRestApi, StagedHttpApi]))


class LazyApp:
    """The Mangum adapter, built on first call (or at once, ``eager``), then kept."""

    def __init__(self, plane: DataPlane, settings: Settings, eager: bool) -> None:
        self.plane, self.settings = plane, settings
        self.adapter: LambdaHandler | None = http_adapter(plane, settings) if eager else None

    def __call__(self) -> LambdaHandler:
        if self.adapter is None:
            self.adapter = http_adapter(self.plane, self.settings)
        return self.adapter


def http_handler(plane: DataPlane, settings: Settings, init_type: str) -> LambdaHandler:
    """The thin path in front of the app (THIN_PATH, on by default), or the app alone. Under provisioned
    concurrency the app is built at INIT too, which is paid before traffic; on demand, on its first request."""
    if not settings.thin_path:
        return http_adapter(plane, settings)
    app = LazyApp(plane, settings, eager=init_type == "provisioned-concurrency")
    return ThinPath(plane, settings.max_body_bytes, app)


def build_runtime(settings: Settings) -> Runtime:
    """Load and warm up every model, then build the app; raises ModelLoadError (logged once) on failure."""
    init_type = initialization_type()
    try:
        repository = load_repository(settings, init_type)
    except ModelLoadError as exc:
        logger.error(f"INIT failed: {exc}")
        raise
    for entry in repository:
        logger.info(
            "model ready",
            extra={
                "model": entry.model.info.name,
                "version": entry.model.info.version,
                "default": entry.model.info.name == repository.default_name,
                "threads": entry.report.threads,
                "session_ms": entry.report.session_ms,
                "warmup_ms": entry.report.warmup_ms,
                "initialization_type": entry.report.initialization_type,
            },
        )
    plane = DataPlane(repository)
    runtime = Runtime(plane=plane, http=http_handler(plane, settings, init_type), settings=settings)
    if settings.input_bucket:  # the batch function: pay the batch imports at INIT, not on the first event
        from handler.batch.store import import_sdk  # noqa: PLC0415

        _ = runtime.batch
        import_sdk()
    return runtime
