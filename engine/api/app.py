"""`create_app(engine, options)`: the HTTP + WebSocket API in front of a running engine.

The engine is started and stopped by whoever runs it (`dexdesk serve`, or the desk); the app only
translates requests into the engine's commands and its announcements into WebSocket messages.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from starlette.middleware import Middleware
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from engine.api.admission import Admission
from engine.api.browsers import BrowserGuard
from engine.api.deadlines import BodyDeadline
from engine.api.execute import add_execute_route
from engine.api.feed import UpdateFeed
from engine.api.guards import BearerToken, BodyLimit
from engine.api.lanes import FastLanes, takes
from engine.api.metrics import ApiMetrics
from engine.api.options import ApiOptions
from engine.api.orders import READ_RESPONSES, add_order_routes
from engine.api.problems import install_problem_handlers, json_response
from engine.api.schemas import Health
from engine.api.service import add_service_routes
from engine.runtime.engine import Engine

HEALTH_TIMEOUT_S = 2.0
BEARER_DOC = (
    "`Authorization: Bearer <token>` on every request and WebSocket. A browser, which cannot set "
    "headers on a WebSocket, offers the subprotocol `bearer.<token>` instead "
    "(`new WebSocket(url, ['bearer.' + token])`); the server accepts with that subprotocol."
)


def version() -> str:
    try:
        return importlib.metadata.version("dexdesk")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def swagger_assets() -> Path:
    """Swagger UI's files as the fastapi-offline package ships them: /docs works with no network."""
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the fastapi-offline package (Swagger UI's files) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


class ApiState:
    """What the routes share, and what the runner closes when the server stops."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.feed = UpdateFeed(engine)
        self.metrics = ApiMetrics(engine, lambda: self.feed.connections)
        self.admission = Admission(engine, self.metrics.admitted)

    async def close(self) -> None:
        self.feed.close()
        self.metrics.close()
        await self.admission.close()


class DexdeskApi(FastAPI):
    """FastAPI, with the routes every order takes answered first by `engine.api.lanes`."""

    hot: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.hot is not None and scope["type"] != "lifespan" and takes(scope):
            await self.hot(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def guards(options: ApiOptions) -> list[Middleware]:
    """Body limit and deadline, token, CORS, and the browser checks (outermost), innermost first:
    FastAPI's middleware and the lanes' own chain."""
    chain = [
        Middleware(BodyLimit, max_bytes=options.max_body_bytes),
        Middleware(BodyDeadline, seconds=options.request_timeout_s, max_bytes=options.max_body_bytes),
    ]
    if options.token:
        chain.append(Middleware(BearerToken, token=options.token))
    if options.cors_origins:
        chain.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(options.cors_origins),
                allow_methods=["GET", "POST", "DELETE"],
                allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            )
        )
    chain.append(
        Middleware(BrowserGuard, host=options.host, allow_hosts=options.allow_hosts, cors_origins=options.cors_origins)
    )
    return chain


def create_app(engine: Engine, options: ApiOptions | None = None) -> DexdeskApi:
    options = options or ApiOptions()
    state = ApiState(engine)
    app = DexdeskApi(
        title="dexdesk",
        version=version(),
        summary="DEX order execution simulator: submit market orders, follow them live.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.api = state
    install_problem_handlers(app)
    add_order_routes(app, engine, state.admission)
    add_execute_route(app, engine, state.admission)
    _add_health(app, engine, options)
    add_service_routes(app, state.metrics, version())
    _add_docs(app)
    app.openapi = lambda: _openapi(app, options)  # type: ignore[method-assign]
    hot: ASGIApp = FastLanes(engine, state.admission, state.feed)
    for guard in guards(options):
        factory, args, kwargs = guard
        app.add_middleware(factory, *args, **kwargs)
        hot = factory(hot, *args, **kwargs)
    app.hot = hot
    return app


def _add_health(app: FastAPI, engine: Engine, options: ApiOptions) -> None:
    @app.get(
        "/health",
        summary="Database, queue, Redis mirror and version",
        response_model=None,
        responses={
            200: {"model": Health, "description": "the database answers"},
            503: {"model": Health, "description": "the database does not answer"},
            **READ_RESPONSES,
        },
        tags=["service"],
    )
    async def health() -> Response:
        storage = engine.storage_health()
        error = storage.last_error
        try:
            await asyncio.wait_for(engine.orders_page(limit=1), HEALTH_TIMEOUT_S)
            database_ok = True
        except Exception as problem:  # noqa: BLE001 (any failure to answer is what this route reports)
            database_ok = False
            error = str(problem).splitlines()[0] if str(problem) else type(problem).__name__
        stats = engine.stats()
        mirror = options.mirror_state()
        body: dict[str, Any] = {
            "status": "ok" if database_ok else "degraded",
            "version": version(),
            "database": {"ok": database_ok, "dialect": storage.dialect, "url": storage.url, "error": error},
            "queue": {
                "waiting": stats.waiting,
                "delayed": stats.delayed,
                "inFlight": stats.in_flight,
                "concurrency": stats.concurrency,
                "windowUsed": stats.window_used,
                "windowMax": stats.window_max,
            },
            "redis": {
                "status": mirror.status if mirror else "off",
                "url": mirror.url if mirror else None,
                "reason": mirror.reason if mirror else None,
            },
        }
        return json_response(body, 200 if database_ok else 503)


def _add_docs(app: FastAPI) -> None:
    app.mount("/docs/assets", StaticFiles(directory=swagger_assets()), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="dexdesk API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()


def _openapi(app: FastAPI, options: ApiOptions) -> dict[str, Any]:
    """FastAPI's document, less the 422 it adds to every route (this API answers bad input with 400)."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
    for path in document.get("paths", {}).values():
        for operation in path.values():
            operation.get("responses", {}).pop("422", None)
    schemas = document.get("components", {}).get("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    if options.token:
        document.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": BEARER_DOC}
        }
        document["security"] = [{"bearer": []}]
    app.openapi_schema = document
    return document
