"""WebSockets: one order's update messages until it ends, or every order's (a board feed).

A follower starts buffering as it learns the order's current state (the feed's last update of it),
or before it reads the stored order when the feed has not heard of it, so a client that connects
late gets that state first and then exactly the later updates: buffered ones not past it were
already covered and are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from engine.api.feed import TERMINAL_NAMES, Follower, UpdateFeed, covered
from engine.api.problems import looks_like_order_id
from engine.model.domain import Order, OrderUpdate, update_message
from engine.model.jsonfmt import dumps
from engine.runtime.engine import Engine

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
    follower, heard = feed.join(order_id)
    gone: list[bool] = []
    watcher: asyncio.Task[None] | None = None
    try:
        await websocket.accept()
        watcher = asyncio.create_task(_watch_disconnect(websocket, follower, gone))
        # `state`: the order as the client now has it, when known exactly; None once a cluster worker's
        # message was sent (its order may be further on), then later ones go out in the order heard.
        state: Order | None
        if heard is not None:
            first, ended = render(heard.update.message, heard.text), _ends(heard.update)
            state = heard.update.order if heard.position is not None else None
        else:
            stored = await read_order(engine, feed, order_id)
            if stored is None:
                await _close(websocket, CLOSE_UNKNOWN_ORDER, f"unknown order id {order_id}")
                return
            first, ended, state = render(update_message(stored), None), stored.is_terminal, stored
        await websocket.send_text(first)
        while not ended:
            await follower.wait()
            if gone:
                return
            for item in follower.take():
                if state is not None and covered(item.update, item.position, state):
                    continue  # already covered by what this client was sent
                state = item.update.order if item.position is not None else None
                await websocket.send_text(render(item.update.message, item.text))
                if _ends(item.update):
                    ended = True
                    break
        await _close(websocket, CLOSE_NORMAL, f"order {order_id} ended")
    except _GONE:
        return
    finally:
        feed.leave(follower)
        if watcher is not None:
            watcher.cancel()


def _ends(update: OrderUpdate) -> bool:
    """The message's own status decides (a cluster worker's message may come with a later order)."""
    return update.message.get("status") in TERMINAL_NAMES


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
            for item in follower.take():
                await websocket.send_text(item.text)
    except _GONE:
        return
    finally:
        feed.leave(follower)
        if watcher is not None:
            watcher.cancel()
