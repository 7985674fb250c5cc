"""WebSockets: one order's update messages until it ends, or every order's (a board feed).

A follower starts buffering before it learns the order's current state — the feed's last update of
it, or the stored order for one the feed has not heard of — so a client that connects late gets that
state first and then exactly the later updates: buffered ones whose progress is not past it were
already covered and are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from engine.api.feed import Follower, UpdateFeed, progress
from engine.api.problems import looks_like_order_id
from engine.domain import Order, update_message
from engine.engine import Engine
from engine.jsonfmt import dumps

Render = Callable[[dict[str, Any], str | None], str]
CLOSE_NORMAL = 1000
CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_UNKNOWN_ORDER = 4404
BOARD_BACKLOG_LIMIT = 10_000
_GONE = (WebSocketDisconnect, OSError, RuntimeError)


def contract_text(message: dict[str, Any], text: str | None) -> str:
    """The contract's update message, byte for byte what `dexdesk submit --json` prints."""
    return text if text is not None else dumps(message)


def lowercase_text(message: dict[str, Any], _text: str | None) -> str:
    """The public task's shape: the same message with its status in lower case."""
    return dumps({**message, "status": str(message["status"]).lower()})


async def read_order(engine: Engine, feed: UpdateFeed, order_id: str) -> Order | None:
    if not looks_like_order_id(order_id):
        return None
    async with feed.reads:
        return await engine.order(order_id)


async def _watch_disconnect(websocket: WebSocket, follower: Follower, gone: list[bool]) -> None:
    """Wake the sender when the client goes away; anything the client sends is ignored."""
    try:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass
    except _GONE:
        pass
    gone.append(True)
    follower.wakeup.set()


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(*_GONE):
        await websocket.close(code, reason.encode()[:123].decode(errors="ignore"))


async def stream_order(
    websocket: WebSocket, engine: Engine, feed: UpdateFeed, order_id: str, render: Render = contract_text
) -> None:
    follower = feed.follow(order_id)
    gone: list[bool] = []
    watcher: asyncio.Task[None] | None = None
    try:
        await websocket.accept()
        watcher = asyncio.create_task(_watch_disconnect(websocket, follower, gone))
        heard = feed.last_update(order_id)
        if heard is not None:
            stored, first = heard.order, render(heard.message, None)
        else:
            read = await read_order(engine, feed, order_id)
            if read is None:
                await _close(websocket, CLOSE_UNKNOWN_ORDER, f"unknown order id {order_id}")
                return
            stored, first = read, render(update_message(read), None)
        await websocket.send_text(first)
        last = progress(stored)
        ended = stored.is_terminal
        while not ended:
            await follower.wait()
            if gone:
                return
            for update, text in follower.take():
                if progress(update.order) <= last:
                    continue  # already covered by what this client was sent
                last = progress(update.order)
                await websocket.send_text(render(update.message, text))
                if update.order.is_terminal:
                    ended = True
                    break
        await _close(websocket, CLOSE_NORMAL, f"order {stored.id} ended")
    except _GONE:
        return
    finally:
        feed.leave(follower)
        if watcher is not None:
            watcher.cancel()


async def stream_everything(websocket: WebSocket, feed: UpdateFeed) -> None:
    """Every order's updates from now on; a client that falls 10,000 messages behind is closed with 1013."""
    follower = feed.follow(None, limit=BOARD_BACKLOG_LIMIT)
    gone: list[bool] = []
    watcher: asyncio.Task[None] | None = None
    try:
        await websocket.accept()
        watcher = asyncio.create_task(_watch_disconnect(websocket, follower, gone))
        while True:
            await follower.wait()
            if gone:
                return
            if follower.overflowed:
                await _close(websocket, CLOSE_TRY_AGAIN_LATER, "too slow: more than 10,000 updates waiting")
                return
            for _update, text in follower.take():
                await websocket.send_text(text)
    except _GONE:
        return
    finally:
        feed.leave(follower)
        if watcher is not None:
            watcher.cancel()
