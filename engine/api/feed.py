"""One listener on the engine's hub for every WebSocket: each committed update reaches the connections
that follow its order (or every order), its JSON text made once however many connections send it.

The feed also remembers the last update it heard of each order (every order still running, and the
latest few thousand ended ones): a follower that joins late starts from that update, taken once it
has started buffering, so it needs no database read and knows exactly which later updates
are new: no gap and no repeat (see `engine.api.streams`). Orders the feed has not heard of since it
started (older ones, or ones resumed before the API came up) are read from the database instead.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from engine.domain import Order, OrderStatus, OrderUpdate
from engine.engine import Engine
from engine.jsonfmt import dumps

_STEP = {OrderStatus.ROUTING: 1, OrderStatus.BUILDING: 2, OrderStatus.SUBMITTED: 3}


READERS = 8
# Ended orders whose last update is remembered for late joiners; running ones are all remembered.
ENDED_REMEMBERED = 4096


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
        self._running: dict[str, OrderUpdate] = {}
        self._ended: OrderedDict[str, OrderUpdate] = OrderedDict()

    def follow(self, order_id: str | None, *, limit: int | None = None) -> Follower:
        """Start buffering the updates of one order (or of every order with None) from now on."""
        follower = Follower(order_id, limit)
        if order_id is None:
            self._everything.add(follower)
        else:
            self._by_order.setdefault(order_id, set()).add(follower)
        return follower

    def last_update(self, order_id: str) -> OrderUpdate | None:
        """The latest update announced for the order, if the feed heard of it (None: read the database).

        Asked after `follow`: every update from then on is in the follower's inbox too, and those not
        past this one are skipped by the stream, so nothing is missed or sent twice.
        """
        return self._running.get(order_id) or self._ended.get(order_id)

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
        self._remember(update)
        followers = self._by_order.get(update.order_id)
        if not followers and not self._everything:
            return
        text = dumps(update.message)
        for follower in (*(followers or ()), *self._everything):
            follower.push(update, text)
            self.delivered += 1

    def _remember(self, update: OrderUpdate) -> None:
        order_id = update.order_id
        known = self._running.get(order_id) or self._ended.get(order_id)
        if known is not None and progress(update.order) <= progress(known.order):
            return  # an older snapshot heard late (another process's change feed): keep the newer one
        if update.order.is_terminal:
            self._running.pop(order_id, None)
            self._ended[order_id] = update
            self._ended.move_to_end(order_id)
            if len(self._ended) > ENDED_REMEMBERED:
                self._ended.popitem(last=False)
        else:
            self._running[order_id] = update
