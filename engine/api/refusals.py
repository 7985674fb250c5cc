"""Refusing a WebSocket with a real HTTP status, as a refused request gets one.

When the server offers the ASGI denial response, the client sees the status and the JSON reason;
otherwise the socket is closed with 4000 + the status (4401, 4403), the nearest a WebSocket has.
"""

from __future__ import annotations

from typing import Any

from starlette.types import Receive, Scope, Send

from engine.model.jsonfmt import dumps


async def refuse_websocket(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    body: dict[str, Any],
    extra: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    await receive()  # websocket.connect
    if "websocket.http.response" in scope.get("extensions", {}):
        payload = dumps(body).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        await send({"type": "websocket.http.response.start", "status": status, "headers": [*headers, *extra]})
        await send({"type": "websocket.http.response.body", "body": payload})
    else:
        await send({"type": "websocket.close", "code": 4000 + status, "reason": str(body.get("error", ""))[:120]})
