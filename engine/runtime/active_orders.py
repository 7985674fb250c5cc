"""The unfinished orders one engine runs, and whoever waits for one of them, or all, to end.

Memory follows what is in flight, not what is queued: an order queued at submission is kept whole
only while fewer than `KEEP_WHOLE` orders are here, else as its id alone (its row is read back when
it starts, engine/runtime/local_plugs.py). So `dexdesk run --orders 100000` holds at most that many
`Order`s with their logs while they wait their turn, and an ordinary backlog (a desk's burst, a
`bench engine` run) starts without reading a single row back (~0.19 ms an order on PostgreSQL).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from engine.model.domain import Order, OrderStatus

log = logging.getLogger(__name__)

# Orders held whole (snapshot and log, ~2 kB each) before new queued ones are held as ids: ~40 MB.
KEEP_WHOLE = 20_000


class ActiveOrders:
    def __init__(self, on_leave: Callable[[str], None]) -> None:
        # None: queued since submission and not read back yet (it is PENDING, as it was stored).
        self._orders: dict[str, Order | None] = {}
        # Those ids, kept apart so the line's read-ahead asks one question, not one per order in line.
        self._unread: set[str] = set()
        self._waiters: dict[str, list[asyncio.Future[Order]]] = {}
        self._on_leave = on_leave
        # Set while no order is active: what `wait_idle` waits for.
        self.idle = asyncio.Event()
        self.idle.set()

    def __contains__(self, order_id: str) -> bool:
        return order_id in self._orders

    def __len__(self) -> int:
        return len(self._orders)

    def get(self, order_id: str) -> Order | None:
        """The latest snapshot kept here; None also for an order queued and not read back yet."""
        return self._orders.get(order_id)

    def orders(self) -> list[Order]:
        """The snapshots kept (orders started, resumed or waiting for a limit; not those only queued)."""
        return [order for order in self._orders.values() if order is not None]

    def pending_ids(self) -> list[str]:
        """Orders waiting without having started their swap: queued, backing off, or waiting for a limit."""
        return [
            order_id for order_id, order in self._orders.items() if order is None or order.status is OrderStatus.PENDING
        ]

    def unread(self, order_id: str) -> bool:
        return order_id in self._unread

    @property
    def any_unread(self) -> bool:
        """Whether any order here is still to be read back (none while all were kept whole)."""
        return bool(self._unread)

    def ids(self) -> list[str]:
        return list(self._orders)

    def track(self, order: Order) -> None:
        self._orders[order.id] = order
        self._unread.discard(order.id)
        self.idle.clear()

    def track_queued(self, order: Order) -> None:
        """A just-stored order going to the queue: kept whole while there is room, else its id until it starts."""
        if len(self._orders) < KEEP_WHOLE:
            self.track(order)
            return
        self._orders[order.id] = None
        self._unread.add(order.id)
        self.idle.clear()

    def fill(self, order: Order) -> None:
        """The row of a queued order, read back as it starts (only if it is still here, unread)."""
        if self.unread(order.id):
            self._orders[order.id] = order
            self._unread.discard(order.id)

    def save(self, order: Order) -> None:
        """Keep an order's latest committed snapshot; one that ended leaves."""
        if order.id not in self._orders:
            return  # it already left this engine (cancelled, lost); a late snapshot must not bring it back
        if order.is_terminal:
            self.end(order)
        else:
            self._orders[order.id] = order
            self._unread.discard(order.id)

    def end(self, order: Order) -> None:
        """The order leaves this engine's active set; its waiters get it if it ended."""
        self._unread.discard(order.id)
        if self._orders.pop(order.id, None) is not None:
            log.info("order %s %s after %d attempt(s)", order.id, order.status, order.attempts)
        if order.is_terminal:
            self.ended(order)
        if not self._orders:
            self.idle.set()
        self._on_leave(order.id)

    def left(self, order_id: str, status: OrderStatus) -> None:
        """An order ended in another process, known by its message alone (nobody here waits for its snapshot)."""
        self._unread.discard(order_id)
        if self._orders.pop(order_id, ...) is ...:
            return
        log.info("order %s %s", order_id, status)
        if not self._orders:
            self.idle.set()
        self._on_leave(order_id)

    def waited(self, order_id: str) -> bool:
        """Whether anyone waits for this order's end (and so for its snapshot)."""
        return bool(self._waiters.get(order_id))

    def drop_unread(self, order_id: str, error: BaseException) -> None:
        """A queued order whose row could not be read back leaves unrun; it keeps its stored state."""
        self._unread.discard(order_id)
        if self._orders.pop(order_id, ...) is ...:
            return
        self.failed(order_id, error)
        if not self._orders:
            self.idle.set()
        self._on_leave(order_id)

    def ended(self, order: Order) -> None:
        """An order ended (here or in another process): whoever waits for it gets it."""
        for future in self._waiters.pop(order.id, []):
            if not future.done():
                future.set_result(order)

    def failed(self, order_id: str, error: BaseException) -> None:
        """The order's state could not be stored: its waiters get the error."""
        for future in self._waiters.pop(order_id, []):
            if not future.done():
                future.set_exception(error)

    def waiter(self, order_id: str) -> asyncio.Future[Order]:
        """A future for the order's end; registered before reading, so an end announced meanwhile reaches it."""
        future: asyncio.Future[Order] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(order_id, []).append(future)
        return future

    def drop_waiter(self, order_id: str, future: asyncio.Future[Order]) -> None:
        waiters = self._waiters.get(order_id, [])
        if future in waiters:
            waiters.remove(future)
        if not waiters:
            self._waiters.pop(order_id, None)
