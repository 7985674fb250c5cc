"""The in-process engine's plugs for the one order runner: its active set, its window, its limit book.

The in-process transport is the engine's queue itself (engine/runtime/queue.py `InProcessQueue`);
the Redis kinds of these plugs are in engine/cluster/.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from engine.model.domain import Order
from engine.runtime.active_orders import ActiveOrders
from engine.runtime.limits import LimitBook
from engine.runtime.ratelimit import SlidingWindowLimiter
from engine.runtime.runner_ports import Turn
from engine.storage import OrderStore, StorageFailure

log = logging.getLogger(__name__)


class WindowGate:
    """The in-process start gate: the engine's sliding window (held in the database, so restarts count)."""

    def __init__(self, limiter: SlidingWindowLimiter) -> None:
        self.limiter = limiter

    async def admit(self, rank: int) -> datetime | None:
        # The in-process line already hands over orders in rank order (a due retry at its head).
        await self.limiter.acquire()
        return None

    def give_back(self) -> None:
        self.limiter.give_back()


class ActiveHolder:
    """An engine owns every order it runs from submission (or take-over) on: a claim is a look-up."""

    def __init__(
        self,
        active: ActiveOrders,
        store: OrderStore,
        ended: Callable[[Order], None],
        forget: Callable[[str], None],
    ) -> None:
        self.active = active
        self.store = store
        self._end = ended
        self._forget = forget

    async def claim(self, order_id: str) -> Order | None:
        return self.active.get(order_id)

    def wanted(self, order_id: str) -> bool:
        return order_id in self.active

    def save(self, order: Order) -> None:
        self.active.save(order)

    async def lost(self, order: Order) -> None:
        self._end(await self.store.get(order.id) or order)

    def failed(self, order: Order, error: StorageFailure) -> bool:
        """Kept as last stored and dropped here: the next start (or `resume`) takes it from there."""
        if self.store.fatal is None:
            log.error("order %s keeps its last stored state and resumes on the next start (%s)", order.id, error)
        self._end(order)
        self.active.failed(order.id, error)
        return False

    def let_go(self, order_id: str) -> None:
        """Nothing to undo: the engine holds its orders until they end or it stops."""


class BookWatch:
    """Waiting limit orders go to the engine's limit book, which queues them when they trigger."""

    def __init__(self, book: LimitBook, active: ActiveOrders) -> None:
        self.book = book
        self.active = active

    async def watch(self, turn: Turn, order: Order) -> Order | None:
        if order.id in self.active:
            self.book.add(order)
        await turn.transport.ack(turn)
        return None
