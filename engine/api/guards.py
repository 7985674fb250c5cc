"""Checks made before any route runs: the bearer token and the body size.

Plain ASGI middleware (no per-request task or body copy), since it sits in front of every request
of a benchmark-sized load. A refused WebSocket gets a real HTTP 401 through the ASGI denial
response when the server offers it, as a refused HTTP request does.
"""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.api.problems import BodyTooLarge, send_json
from engine.jsonfmt import dumps

# The docs page, its assets and the schema carry no orders: a browser can open them and then use
# the page's Authorize button, since it cannot send a header when following a link.
PUBLIC_PATHS = ("/docs", "/docs/", "/docs/oauth2-redirect", "/openapi.json")
PUBLIC_PREFIX = "/docs/assets/"


class BearerToken:
    """Every request and WebSocket must carry `Authorization: Bearer <token>` (401 otherwise)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        challenge = [(b"www-authenticate", b'Bearer realm="dexdesk"')]
        body = {"error": "missing or wrong bearer token: send `Authorization: Bearer <token>`"}
        if scope["type"] == "http":
            await send_json(send, 401, body, challenge)
            return
        await receive()  # websocket.connect
        if "websocket.http.response" in scope.get("extensions", {}):
            payload = dumps(body).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
            await send({"type": "websocket.http.response.start", "status": 401, "headers": headers + challenge})
            await send({"type": "websocket.http.response.body", "body": payload})
        else:
            await send({"type": "websocket.close", "code": 4401, "reason": "missing or wrong bearer token"})

    def _allowed(self, scope: Scope) -> bool:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIX)):
            return True
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                return hmac.compare_digest(value, self.expected)
        return False


class BodyLimit:
    """Refuse bodies over the limit: at once from Content-Length, or as soon as a streamed body passes it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                if value.isdigit() and int(value) > self.max_bytes:
                    await send_json(send, 413, {"error": "the request body is larger than 64 KiB"}, [])
                    return
                await self.app(scope, receive, send)  # the server never delivers more than it announced
                return
        received = 0

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        await self.app(scope, counting, send)
