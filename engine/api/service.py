"""`GET /` (what this server is and where to look) and `GET /metrics` (Prometheus's text format)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.responses import Response

from engine.api.metrics import CONTENT_TYPE, ApiMetrics
from engine.api.orders import READ_RESPONSES
from engine.api.problems import json_response
from engine.api.schemas import Index

LINKS = {
    "docs": "/docs",
    "openapi": "/openapi.json",
    "health": "/health",
    "metrics": "/metrics",
    "orders": "/api/orders",
}


def add_service_routes(app: FastAPI, metrics: ApiMetrics, version: str) -> None:
    @app.get(
        "/",
        summary="What this server is, and links to its docs, schema, health and metrics",
        response_model=None,
        responses={200: {"model": Index, "description": "name, version and links"}, **READ_RESPONSES},
        tags=["service"],
    )
    async def index() -> Response:
        body: dict[str, Any] = {"name": "dexdesk", "version": version, "links": LINKS}
        return json_response(body)

    @app.get(
        "/metrics",
        summary="Orders by status, in flight and queued, attempt starts, POST-to-end latency, WebSocket connections",
        response_model=None,
        responses={
            200: {
                "description": "Prometheus's text exposition format",
                "content": {CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}}},
            },
            **READ_RESPONSES,
        },
        tags=["service"],
    )
    async def scrape() -> Response:
        return Response(await metrics.render(), media_type=CONTENT_TYPE)
