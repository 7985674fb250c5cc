"""The unfinished orders one engine runs, and whoever waits for one of them, or all, to end."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from engine.model.domain import Order

log = logging.getLogger(__name__)


class ActiveOrders:
    def __init__(self, on_leave: Callable[[str], None]) -> None:
        self._orders: dict[str, Order] = {}
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
        return self._orders.get(order_id)

    def orders(self) -> list[Order]:
        return list(self._orders.values())

    def ids(self) -> list[str]:
        return list(self._orders)

    def track(self, order: Order) -> None:
        self._orders[order.id] = order
        self.idle.clear()

    def save(self, order: Order) -> None:
        """Keep an order's latest committed snapshot; one that ended leaves."""
        if order.id not in self._orders:
            return  # it already left this engine (cancelled, lost); a late snapshot must not bring it back
        if order.is_terminal:
            self.end(order)
        else:
            self._orders[order.id] = order

    def end(self, order: Order) -> None:
        """The order leaves this engine's active set; its waiters get it if it ended."""
        if self._orders.pop(order.id, None) is not None:
            log.info("order %s %s after %d attempt(s)", order.id, order.status, order.attempts)
        if order.is_terminal:
            self.ended(order)
        if not self._orders:
            self.idle.set()
        self._on_leave(order.id)

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
