"""The in-process engine's plugs for the one order runner: its active set, its window, its limit book.

The in-process transport is the engine's queue itself (engine/runtime/queue.py `InProcessQueue`);
the Redis kinds of these plugs are in engine/cluster/.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from engine.model.domain import Order
from engine.runtime.active_orders import ActiveOrders
from engine.runtime.limits import LimitBook
from engine.runtime.ratelimit import SlidingWindowLimiter
from engine.runtime.runner_ports import Turn
from engine.storage import OrderStore, StorageFailure, ownership

log = logging.getLogger(__name__)

READ_AHEAD = 500
LOW_WATER = 100


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
    """An engine owns every order it runs from submission (or take-over) on: a claim is a look-up.

    An order queued at submission is held as its id only; its row is read back before it starts:
    the rows of the next `READ_AHEAD` in line (`upcoming`) are read in one go, in the background,
    once an unread one comes within `LOW_WATER` of the head, so the line never waits on a read
    (it did: waiting for each batch's read halved `run`'s throughput on SQLite).
    """

    def __init__(
        self,
        active: ActiveOrders,
        store: OrderStore,
        ended: Callable[[Order], None],
        upcoming: Callable[[int], list[str]],
    ) -> None:
        self.active = active
        self.store = store
        self._end = ended
        self._upcoming = upcoming
        self._reading: asyncio.Task[None] | None = None
        self._batch: set[str] = set()

    async def claim(self, turn: Turn) -> Order | None:
        order_id = turn.order_id
        if self.active.unread(order_id) and self._reading is not None and order_id in self._batch:
            await asyncio.wait({self._reading})  # its outcome is the read's own business
        if self.active.unread(order_id):
            try:
                await self._read([order_id, *self._unread_ahead(READ_AHEAD)])
            except StorageFailure as error:
                log.error("order %s could not be read back; it resumes on the next start (%s)", order_id, error)
                self.active.drop_unread(order_id, error)
                return None
        self._read_ahead()
        return self.active.get(order_id)

    def _unread_ahead(self, count: int) -> list[str]:
        return [other for other in self._upcoming(count) if self.active.unread(other) and other not in self._batch]

    def _read_ahead(self) -> None:
        if self._reading is not None or not self.active.any_unread or not self._unread_ahead(LOW_WATER):
            return
        self._batch = set(self._unread_ahead(READ_AHEAD))
        self._reading = asyncio.create_task(self._read_in_background(), name="dexdesk-read-ahead")

    async def _read_in_background(self) -> None:
        try:
            await self._read(sorted(self._batch))
        except Exception as error:  # noqa: BLE001  (each order is read again as it starts)
            log.info("could not read ahead the next queued orders (%s); reading each as it starts", error)
        finally:
            self._reading = None
            self._batch = set()

    async def _read(self, order_ids: list[str]) -> None:
        for order in await ownership.read_orders(self.store, order_ids):
            self.active.fill(order)

    async def close(self) -> None:
        """Stop a read ahead still running (the engine is stopping)."""
        if self._reading is not None:
            self._reading.cancel()
            await asyncio.gather(self._reading, return_exceptions=True)

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
