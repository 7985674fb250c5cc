"""One listener on the engine's hub for every WebSocket: each committed update reaches the connections
that follow its order (or every order), its JSON text made once however many connections send it.

The feed also remembers the last update it heard of each order (the orders still running, and the
latest few thousand ended ones). A follower that joins takes that update in the same step as it
starts buffering, so it needs no database read and every buffered update is a later one: no gap
and no repeat (see `engine.api.streams`). Orders the feed has not heard of since it started (older
ones, or ones resumed before the API came up) are read from the database instead.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.model.domain import Order, OrderStatus, format_timestamp
from engine.model.updates import OrderUpdate
from engine.runtime.engine import Engine

_STEP = {OrderStatus.ROUTING: 1, OrderStatus.BUILDING: 2, OrderStatus.SUBMITTED: 3}
READERS = 8
# Orders whose last update is remembered for late joiners: the latest ended ones, and running ones up
# to a bound that only an order whose end is never heard (its process died unresumed) could reach.
ENDED_REMEMBERED = 4096
RUNNING_REMEMBERED = 100_000

Progress = tuple[int, int, int, datetime]


def _step(status: OrderStatus, retrying: bool) -> int:
    if status.is_terminal:
        return 5
    if status is OrderStatus.PENDING:
        return 4 if retrying else 0
    return _STEP[status]


def progress(order: Order) -> Progress:
    """How far an order has gone, from its stored row alone: of two snapshots, the greater is the later.

    `version` is bumped by every stored change and decides whenever the storage keeps it. Without
    it, the attempt, the step within the attempt (a retry's PENDING comes after the attempt's
    SUBMITTED; an end after everything) and the time of the change order the snapshots. The log's
    length is not used: the order row and its log lines are read by two statements, and the
    lines may already hold a change the row does not.
    """
    return (order.version, order.attempts, _step(order.status, bool(order.attempts)), order.updated_at)


def snapshot_progress(update: OrderUpdate) -> Progress | None:
    """The update's progress, or None when its `order` is not the state its message announces.

    That is a worker's message heard in cluster mode: heard by its message alone, or with its order
    read from the database after the message arrived, which may already be further on. Such
    messages are taken in the order heard.
    """
    if update.external:
        if not update.has_order:
            return None
        message = update.message
        if message.get("status") != update.order.status or message.get("timestamp") != format_timestamp(
            update.order.updated_at
        ):
            return None
    return (update.version, update.attempts, _step(update.status, bool(update.attempts)), update.updated_at)


def covered(update: OrderUpdate, position: Progress | None, state: Order) -> bool:
    """Whether a client that has `state` already has what the update announces."""
    if position is not None:
        return position <= progress(state)
    message: dict[str, Any] = update.message
    try:
        status = OrderStatus(str(message.get("status")))
    except ValueError:
        return False
    heard = (str(message.get("timestamp")), _step(status, "retryInMs" in message))
    return heard <= (format_timestamp(state.updated_at), _step(state.status, bool(state.attempts)))


@dataclass(frozen=True, slots=True)
class Heard:
    """An update as the feed passes it on, with its progress (see above)."""

    update: OrderUpdate
    position: Progress | None

    @property
    def text(self) -> str:
        """Its JSON line, made when a follower first sends it: the feed hears every update, most
        with nobody following their order (issue 26's load posts and never follows), and the line
        is made once, by the update, however many followers send it."""
        return self.update.text


@dataclass(eq=False, slots=True)
class Follower:
    """A connection's inbox: updates in the order the engine announced them."""

    order_id: str | None
    limit: int | None = None
    inbox: deque[Heard] = field(default_factory=deque)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    overflowed: bool = False

    def push(self, heard: Heard) -> None:
        if self.limit is not None and len(self.inbox) >= self.limit:
            self.overflowed = True
        else:
            self.inbox.append(heard)
        self.wakeup.set()

    async def wait(self) -> None:
        await self.wakeup.wait()

    def take(self) -> list[Heard]:
        items = list(self.inbox)
        self.inbox.clear()
        self.wakeup.clear()
        return items


class UpdateFeed:
    def __init__(self, engine: Engine) -> None:
        self._by_order: dict[str, set[Follower]] = {}
        self._everything: set[Follower] = set()
        self._unsubscribe: Callable[[], None] | None = engine.subscribe(self._on_update, snapshots="none")
        self.delivered = 0
        # Joining followers read the stored order a few at a time: a burst of 200 connections would
        # otherwise open (and close) a database connection, and on SQLite a thread, for each of them.
        self.reads = asyncio.Semaphore(READERS)
        self._running: dict[str, Heard] = {}
        self._ended: OrderedDict[str, Heard] = OrderedDict()

    def follow(self, order_id: str | None, *, limit: int | None = None) -> Follower:
        """Start buffering the updates of one order (or of every order with None) from now on."""
        follower = Follower(order_id, limit)
        if order_id is None:
            self._everything.add(follower)
        else:
            self._by_order.setdefault(order_id, set()).add(follower)
        return follower

    def join(self, order_id: str) -> tuple[Follower, Heard | None]:
        """Follow one order and take the last update heard of it, in one step: every update buffered
        from now on came after it. None: the feed has not heard of the order (read the database)."""
        return self.follow(order_id), self._running.get(order_id) or self._ended.get(order_id)

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
        heard = Heard(update, snapshot_progress(update))
        self._remember(heard)
        for follower in (*(followers or ()), *self._everything):
            follower.push(heard)
            self.delivered += 1

    def _remember(self, heard: Heard) -> None:
        order_id = heard.update.order_id
        known = self._running.get(order_id) or self._ended.get(order_id)
        old, new = known.position if known is not None else None, heard.position
        if old is not None and new is not None and new <= old:
            return  # an older snapshot heard late (another process's change feed): keep the newer one
        if heard.update.message.get("status") in TERMINAL_NAMES:
            self._running.pop(order_id, None)
            self._ended[order_id] = heard
            self._ended.move_to_end(order_id)
            if len(self._ended) > ENDED_REMEMBERED:
                self._ended.popitem(last=False)
        else:
            self._running[order_id] = heard
            if len(self._running) > RUNNING_REMEMBERED:
                del self._running[next(iter(self._running))]  # the longest remembered: read from the database


TERMINAL_NAMES = frozenset(str(status) for status in OrderStatus if status.is_terminal)
