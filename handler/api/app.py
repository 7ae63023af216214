"""The FastAPI application, composed in one place, wrapped in the body limit and the error guard."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from handler import __version__
from handler.answers import ANSWER_GZIP_BYTES, GZIP_LEVEL
from handler.api import routes_health, routes_predict, routes_triton, routes_v2
from handler.api.compression import RequestDecompression
from handler.api.errors import BodyLimit, ErrorGuard, install_error_handlers
from handler.api.openapi_doc import install_served_openapi
from handler.dataplane import DataPlane
from handler.settings import DEFAULT_DOCS_ASSETS_URL

DESCRIPTION = """Serverless inference for an ONNX model on AWS Lambda.

* **Open Inference Protocol** (KServe / Triton v2) under `/v2`: standard clients work unchanged.
* **`POST /predict`** with `{"instances": [...]}` for labels and probabilities.
* **`GET /health`** for liveness and readiness.

Every error is `{"error": "..."}` saying what is wrong, where, and what was expected.
"""

# The order /docs shows the groups in (routes are registered in another order, for speed: see below).
TAGS = [
    {"name": "health", "description": "Liveness and readiness."},
    {"name": "predict", "description": "Labels and probabilities from plain JSON instances."},
    {"name": "open inference protocol", "description": "KServe / Triton v2 REST, with binary tensor data."},
]


def install_docs(app: FastAPI, assets_url: str) -> None:
    """/docs as FastAPI builds it, with Swagger UI's files from ``assets_url`` (DOCS_ASSETS_URL): the public CDN
    by default, a copy of swagger-ui-dist on the user's own host where browsers cannot reach the CDN."""
    base = assets_url.rstrip("/")

    async def swagger_ui(request: Request) -> HTMLResponse:
        root_path = request.scope.get("root_path", "").rstrip("/")  # the stage: /prod/docs reads /prod/openapi.json
        return get_swagger_ui_html(
            openapi_url=root_path + (app.openapi_url or "/openapi.json"),
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{base}/swagger-ui-bundle.js",
            swagger_css_url=f"{base}/swagger-ui.css",
            swagger_favicon_url=f"{base}/favicon-32x32.png",
        )

    app.add_route("/docs", swagger_ui, include_in_schema=False)


class TrailingSlash:
    """Serve ``/predict/`` as ``/predict`` instead of redirecting to it: Starlette's redirect builds Location
    from the Host header, which a client behind a load balancer sets to anything it likes (an open redirect)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, root = scope.get("path", ""), scope.get("root_path", "")
        if scope["type"] == "http" and len(path) > len(root) + 1 and path.endswith("/"):
            scope = {**scope, "path": path.rstrip("/") or "/"}
        await self.app(scope, receive, send)


def create_app(plane: DataPlane, max_body_bytes: int, docs_assets_url: str = DEFAULT_DOCS_ASSETS_URL) -> ErrorGuard:
    """Build the ASGI app serving ``plane``'s models; the result is what Mangum and tests call."""
    # strict_content_type off: Triton's HTTP client sends JSON with no content-type header at all.
    app = FastAPI(
        title="onnx-lambda",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        strict_content_type=False,
        docs_url=None,  # install_docs serves /docs, from DOCS_ASSETS_URL
        redoc_url=None,  # one documentation page to keep working offline, not two
        redirect_slashes=False,  # TrailingSlash serves the route itself: no Location built from Host
    )
    app.state.dataplane = plane
    install_docs(app, docs_assets_url)
    install_error_handlers(app)
    install_served_openapi(app, plane)
    # Inference routes first: Starlette tries routes in order and each miss costs a request ~10 µs; no
    # path of the others can match theirs (a path parameter never spans a "/").
    app.include_router(routes_v2.infer_router)
    app.include_router(routes_predict.router)
    app.include_router(routes_health.router)
    app.include_router(routes_triton.router)
    app.include_router(routes_v2.router)
    # Answers of ANSWER_GZIP_BYTES or more gzipped for a client that accepts it (handler.answers).
    compressed = GZipMiddleware(app, minimum_size=ANSWER_GZIP_BYTES, compresslevel=GZIP_LEVEL)
    return ErrorGuard(TrailingSlash(BodyLimit(RequestDecompression(compressed, max_body_bytes), max_body_bytes)))
