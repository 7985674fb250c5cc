"""The routes every order takes, `POST /api/orders` and the WebSockets, answered before FastAPI routes them.

Under a benchmark-sized load FastAPI's per-request machinery (middleware layers, exception wrappers,
two exit stacks, route matching, dependency solving for one header) cost more CPU than the POST's
own work, and the same again for every WebSocket. `engine.api.app.DexdeskApi` hands these requests
to the lanes behind their own instances of the same guards (Host, Origin and Content-Type, body limit
and deadline, token, CORS), so those hold
as for every route; the lanes call the same functions the FastAPI routes call: the answers are the
same bytes. `POST /api/orders` stays declared in FastAPI for the OpenAPI document; the
WebSockets, which OpenAPI does not describe, are served here only.
"""

from __future__ import annotations

from starlette.datastructures import QueryParams
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from engine.api.admission import Admission
from engine.api.feed import UpdateFeed
from engine.api.orders import create, created_body
from engine.api.problems import REFUSALS, refusal, send_json
from engine.api.streams import lowercase_text, stream_everything, stream_order
from engine.runtime.engine import Engine

ORDER_STREAM_PREFIX = "/ws/orders/"


class ClientGone(Exception):
    """The client disconnected before its request body arrived: nothing to answer."""


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _order_stream_id(path: str) -> str:
    """The id in `/ws/orders/{id}` (one non-empty path segment, as a route would match), else ""."""
    if not path.startswith(ORDER_STREAM_PREFIX):
        return ""
    order_id = path[len(ORDER_STREAM_PREFIX) :]
    return order_id if "/" not in order_id else ""


def takes(scope: Scope) -> bool:
    """Whether the request is one of the lanes' routes (everything else is FastAPI's)."""
    kind, path = scope["type"], scope["path"]
    if kind == "http":
        return bool(path == "/api/orders" and scope["method"] == "POST")
    return kind == "websocket" and (path in ("/ws/orders", "/api/orders/execute") or bool(_order_stream_id(path)))


class FastLanes:
    """`POST /api/orders` and the three WebSockets, for requests `takes` accepts."""

    def __init__(self, engine: Engine, admission: Admission, feed: UpdateFeed) -> None:
        self.engine = engine
        self.admission = admission
        self.feed = feed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if scope["type"] == "http":
            await self._create(scope, receive, send)
        elif path == "/ws/orders":
            await stream_everything(WebSocket(scope, receive, send), self.feed)
        elif path == "/api/orders/execute":
            order_id = QueryParams(scope["query_string"]).get("orderId", "")
            await stream_order(WebSocket(scope, receive, send), self.engine, self.feed, order_id, lowercase_text)
        else:
            await stream_order(WebSocket(scope, receive, send), self.engine, self.feed, _order_stream_id(path))

    async def _create(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = await read_body(receive)
            order = await create(self.engine, self.admission, body, header(scope, b"idempotency-key"))
        except ClientGone:
            return
        except REFUSALS as refused:  # answered as FastAPI's handlers answer them (engine/api/problems.py)
            await send_json(send, *refusal(refused))
            return
        location = f"/api/orders/{order.id}".encode()
        await send_json(send, 201, created_body(order), [(b"location", location)])
