"""One listener on the engine's hub for every WebSocket: each committed update reaches the connections
that follow its order (or every order), its JSON text made once however many connections send it.

A follower that joins late reads the stored order after it has started buffering, so it knows
exactly which buffered updates are newer than what it read: no gap and no repeat (see
`engine.api.streams`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from engine.domain import Order, OrderStatus, OrderUpdate
from engine.engine import Engine
from engine.jsonfmt import dumps

_STEP = {OrderStatus.ROUTING: 1, OrderStatus.BUILDING: 2, OrderStatus.SUBMITTED: 3}


READERS = 8


def progress(order: Order) -> tuple[int, int, int, datetime]:
    """How far an order has gone, from its stored row alone: of two snapshots, the greater is the later.

    `version` is bumped by every stored change and decides whenever the storage keeps it. Without
    it, the attempt, the step within the attempt (a retry's PENDING comes after the attempt's
    SUBMITTED; an end after everything) and the time of the change order the snapshots. The log's
    length is not used: the order row and its log lines are read by two statements, and the
    lines may already hold a change the row does not.
    """
    if order.status.is_terminal:
        step = 5
    elif order.status is OrderStatus.PENDING:
        step = 4 if order.attempts else 0
    else:
        step = _STEP[order.status]
    return (order.version, order.attempts, step, order.updated_at)


@dataclass(eq=False, slots=True)
class Follower:
    """A connection's inbox: updates in the order the engine announced them."""

    order_id: str | None
    limit: int | None = None
    inbox: deque[tuple[OrderUpdate, str]] = field(default_factory=deque)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    overflowed: bool = False

    def push(self, update: OrderUpdate, text: str) -> None:
        if self.limit is not None and len(self.inbox) >= self.limit:
            self.overflowed = True
        else:
            self.inbox.append((update, text))
        self.wakeup.set()

    async def wait(self) -> None:
        await self.wakeup.wait()

    def take(self) -> list[tuple[OrderUpdate, str]]:
        items = list(self.inbox)
        self.inbox.clear()
        self.wakeup.clear()
        return items


class UpdateFeed:
    def __init__(self, engine: Engine) -> None:
        self._by_order: dict[str, set[Follower]] = {}
        self._everything: set[Follower] = set()
        self._unsubscribe: Callable[[], None] | None = engine.subscribe(self._on_update)
        self.delivered = 0
        # Joining followers read the stored order a few at a time: a burst of 200 connections would
        # otherwise open (and close) a database connection, and on SQLite a thread, for each of them.
        self.reads = asyncio.Semaphore(READERS)

    def follow(self, order_id: str | None, *, limit: int | None = None) -> Follower:
        """Start buffering the updates of one order (or of every order with None) from now on."""
        follower = Follower(order_id, limit)
        if order_id is None:
            self._everything.add(follower)
        else:
            self._by_order.setdefault(order_id, set()).add(follower)
        return follower

    def leave(self, follower: Follower) -> None:
        if follower.order_id is None:
            self._everything.discard(follower)
            return
        followers = self._by_order.get(follower.order_id)
        if followers is not None:
            followers.discard(follower)
            if not followers:
                del self._by_order[follower.order_id]

    @property
    def connections(self) -> int:
        return len(self._everything) + sum(len(group) for group in self._by_order.values())

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_update(self, update: OrderUpdate) -> None:
        followers = self._by_order.get(update.order_id)
        if not followers and not self._everything:
            return
        text = dumps(update.message)
        for follower in (*(followers or ()), *self._everything):
            follower.push(update, text)
            self.delivered += 1
