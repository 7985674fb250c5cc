"""Who waits for an order's updates to be on Redis: a cluster worker, before it completes the order's job.

A worker completes an order's job only once its end is on Redis: completed first, a worker killed
in between left the order ended in the database, its job gone (nobody would look at the order
again) and its end never published (tests/cluster/test_end_before_ack.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class SentWaiters:
    """Futures per order, resolved once `unsent(order_id)` says nothing of the order is left to write."""

    def __init__(self, unsent: Callable[[str], bool]) -> None:
        self._unsent = unsent
        self._waiting: dict[str, list[asyncio.Future[None]]] = {}

    async def wait(self, order_id: str, timeout_s: float) -> bool:
        """True once every update queued for the order has been written; False after `timeout_s`."""
        if not self._unsent(order_id):
            return True
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(order_id, []).append(waiter)
        try:
            await asyncio.wait_for(waiter, timeout_s)
        except TimeoutError:
            return False
        finally:
            waiters = self._waiting.get(order_id, [])
            if waiter in waiters:
                waiters.remove(waiter)
            if not waiters:
                self._waiting.pop(order_id, None)
        return True

    def wake(self) -> None:
        """After a write landed: resolve the waiters of every order with nothing left to write."""
        if not self._waiting:
            return
        for order_id in [order_id for order_id in self._waiting if not self._unsent(order_id)]:
            for waiter in self._waiting.pop(order_id):
                if not waiter.done():
                    waiter.set_result(None)
