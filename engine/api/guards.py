"""Checks made before any route runs: the bearer token and the body size (Host, Origin and
Content-Type: `engine.api.browsers`; slow requests: `engine.api.deadlines`).

Plain ASGI middleware (no per-request task or body copy), since it sits in front of every request
of a benchmark-sized load. A refused WebSocket gets a real HTTP 401 through the ASGI denial
response when the server offers it, as a refused HTTP request does.
"""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.api.problems import BodyTooLarge, body_too_large, send_json
from engine.api.refusals import refuse_websocket

# The docs page, its assets and the schema carry no orders: a browser can open them and then use
# the page's Authorize button, since it cannot send a header when following a link.
PUBLIC_PATHS = ("/docs", "/docs/", "/docs/oauth2-redirect", "/openapi.json")
PUBLIC_PREFIX = "/docs/assets/"


SUBPROTOCOL_PREFIX = "bearer."


def offered_subprotocols(scope: Scope) -> list[str]:
    """The WebSocket subprotocols a client offered (`Sec-WebSocket-Protocol`, comma-separated, maybe repeated)."""
    offered: list[str] = []
    for name, value in scope.get("headers", ()):
        if name == b"sec-websocket-protocol":
            offered.extend(part.strip() for part in bytes(value).decode("latin-1").split(","))
    return offered


class BearerToken:
    """Every request and WebSocket must carry the token (401 otherwise).

    As `Authorization: Bearer <token>`; a WebSocket may instead offer the subprotocol
    `bearer.<token>`, since a browser's `new WebSocket(url, protocols)` cannot set headers. The
    server then accepts with that subprotocol, as a browser requires of an offered one.
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()
        self.subprotocol = f"{SUBPROTOCOL_PREFIX}{token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket" and self._offered_token(scope):
            await self.app(scope, receive, self._accepting_with_subprotocol(send))
            return
        challenge = [(b"www-authenticate", b'Bearer realm="dexdesk"')]
        body = {
            "error": "missing or wrong bearer token: send `Authorization: Bearer <token>` "
            "(a WebSocket may offer the subprotocol `bearer.<token>` instead)"
        }
        if scope["type"] == "http":
            await send_json(send, 401, body, challenge)
            return
        await refuse_websocket(scope, receive, send, 401, body, tuple(challenge))

    def _allowed(self, scope: Scope) -> bool:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIX)):
            return True
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                return hmac.compare_digest(value, self.expected)
        return False

    def _offered_token(self, scope: Scope) -> bool:
        return any(
            hmac.compare_digest(offered.encode("latin-1"), self.subprotocol)
            for offered in offered_subprotocols(scope)
            if offered.startswith(SUBPROTOCOL_PREFIX)
        )

    def _accepting_with_subprotocol(self, send: Send) -> Send:
        chosen = self.subprotocol.decode("latin-1")

        async def accepting(message: Message) -> None:
            if message["type"] == "websocket.accept" and not message.get("subprotocol"):
                message = {**message, "subprotocol": chosen}
            await send(message)

        return accepting


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
                    await send_json(send, 413, body_too_large(self.max_bytes), [])
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
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counting, send)
