"""The engine's waits: until one order ends, until nothing is active, until what dead processes held is ours.

Every front end waits through these (`submit` for its order, `run` and `resume` for all, a closing
desk for what is running). `Engine` is the one class that has them; they live apart to keep
engine.py about commands and the orders it runs. Each wait also ends, with the store's error, when
the database refuses for good: no order could move on, so waiting would be forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from engine.model.domain import Order
from engine.runtime.active_orders import ActiveOrders
from engine.runtime.engine_config import EngineSettings
from engine.runtime.limits import LimitBook
from engine.storage import OrderStore, ownership


class EngineWaits:
    # Set by Engine.__init__.
    settings: EngineSettings
    store: OrderStore
    limits: LimitBook
    _active: ActiveOrders

    async def wait_terminal(self, order_id: str) -> Order:
        """Wait until the order ends (CONFIRMED, FAILED or CANCELLED); returns at once if it already has.

        Works for orders other processes run too: their end arrives through the change feed.
        """
        future = self._active.waiter(order_id)  # before reading: an end announced while we read still reaches us
        if order_id not in self._active:
            stored = await self.store.get(order_id)
            if stored is None or stored.is_terminal:
                self._active.drop_waiter(order_id, future)
                if stored is None:
                    raise KeyError(order_id)
                return stored
        result: Order = await self._until_idle_or_broken(future)
        return result

    async def wait_abandoned(self) -> None:
        """Wait until every unfinished order other processes hold is either theirs for sure or ours.

        A process that died holds its orders until its lease runs out; a live one renews its
        lease every third of it. So each order held elsewhere is watched until it ends, or its
        lease is renewed (a live owner: left to it), or it is taken over here once the lease
        expires. `dexdesk resume` uses this to finish what a crashed process left.
        """
        watched = await ownership.held_elsewhere(self.store)
        while watched:
            await asyncio.sleep(self.settings.feed_interval_s)
            now = await ownership.held_elsewhere(self.store)
            watched = {
                order_id: lease
                for order_id, lease in watched.items()
                if order_id in now and now[order_id] <= lease and order_id not in self._active
            }

    def running_count(self) -> int:
        """Active orders that are not waiting limit orders (those wait for their price, not for the engine)."""
        return sum(1 for order_id in self._active.ids() if order_id not in self.limits)

    async def wait_running_done(self, poll_s: float = 0.2) -> None:
        """Wait until every active order is a waiting limit order (or none is left): what a closing desk waits for."""
        while self.running_count():
            if not self.limits:
                await self._active.idle.wait()
                return
            await asyncio.sleep(poll_s)

    async def wait_idle(self) -> None:
        """Wait until no order is active: everything queued has reached a terminal state.

        Raises `StorageUnavailable` if the database refuses for good meanwhile (read-only,
        damaged): no order could move on, so waiting would be forever.
        """
        await self._until_idle_or_broken(self._active.idle.wait())

    async def _until_idle_or_broken(self, waiting: Awaitable[Any]) -> Any:
        task = asyncio.ensure_future(waiting)
        broken = asyncio.ensure_future(self.store.broken.wait())
        try:
            await asyncio.wait({task, broken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            broken.cancel()
            if not task.done():
                task.cancel()
        if task.done() and not task.cancelled():
            return task.result()
        assert self.store.fatal is not None
        raise self.store.fatal
