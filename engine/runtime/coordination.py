"""What one engine does so that several processes can share one database.

Every `feed_interval_s` (0.5 s) the engine reads the change feed: the orders other processes
changed since it last looked, published through its hub as external updates, so the desk's board,
the API's WebSockets and anything else subscribed see every order in the database. Orders of its
own that another process changed (a cancel) leave its active set at once. Every third of a lease
it renews the leases it holds; every half lease it takes over unfinished orders whose owner has
stopped renewing (a process that died). Nothing here ever fails an order: a database hiccup is
logged and tried again next tick.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.model.clock import Clock
from engine.model.domain import Order, OrderStatus, OrderUpdate, update_message
from engine.runtime.missed_states import Heard, may_have_skipped, missed_updates
from engine.runtime.task_stop import stop_task
from engine.storage import OrderStore, StorageUnavailable, feed_reads, ownership
from engine.storage.change_feed import FeedCursor

log = logging.getLogger(__name__)


def external_update(order: Order) -> OrderUpdate:
    """The contract's update message for a change another process made (what that process announced)."""
    attempt = retry_in_ms = None
    if order.status is OrderStatus.PENDING and order.retry_at is not None and order.attempts:
        attempt = order.attempts
        retry_in_ms = max(0, round((order.retry_at - order.updated_at).total_seconds() * 1000))
    message = update_message(order, attempt=attempt, retry_in_ms=retry_in_ms)
    return OrderUpdate(message, order, (), external=True)


class Coordinator:
    """The background task of one engine: change feed, lease renewal, take-over of abandoned orders."""

    def __init__(
        self,
        store: OrderStore,
        clock: Clock,
        *,
        lease_s: float,
        feed_interval_s: float,
        on_external: Callable[[OrderUpdate], None],
        on_takeover: Callable[[list[Order]], Awaitable[None]],
    ) -> None:
        self.store = store
        self.clock = clock
        self.lease_s = lease_s
        self.feed_interval_s = feed_interval_s
        self.on_external = on_external
        self.on_takeover = on_takeover
        self.cursor = FeedCursor(0)
        self._task: asyncio.Task[None] | None = None
        self._last_renewal = 0.0
        self._last_takeover = 0.0
        # What was last announced of each unfinished order another process runs (engine/runtime/missed_states.py).
        self._heard: dict[str, Heard] = {}
        # Set on the loop's clock at start(); an engine may be built before its loop runs (the desk's).
        self._since = datetime.now(UTC)

    def lease_until(self) -> Any:
        return self.clock.utc_now() + timedelta(seconds=self.lease_s)

    async def start(self) -> None:
        self._since = self.clock.utc_now()
        self.cursor = await feed_reads.feed_cursor_now(self.store)
        self._last_renewal = self._last_takeover = self.clock.monotonic()
        self._task = asyncio.create_task(self._run(), name="dexdesk-coordination")

    async def stop(self) -> None:
        if self._task is not None:
            await stop_task(self._task)
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.feed_interval_s)
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except StorageUnavailable as problem:
                # The database refused for good (deleted, read-only, damaged): the command says so once.
                log.info("stopped reading other processes' changes: %s", problem)
                return
            except Exception:
                log.warning("could not read other processes' changes or renew leases; trying again", exc_info=True)

    async def tick(self) -> None:
        """One round: renew leases when due, take over abandoned orders when due, read the feed."""
        now = self.clock.monotonic()
        if now - self._last_renewal >= self.lease_s / 3:
            self._last_renewal = now
            await ownership.renew(self.store, self.lease_until())
        if now - self._last_takeover >= self.lease_s / 2:
            self._last_takeover = now
            claimed = await ownership.claim(self.store, now=self.clock.utc_now(), until=self.lease_until())
            if claimed:
                log.info("took over %d orders whose owner stopped renewing its lease", len(claimed))
                await self.on_takeover(claimed)
        await self.poll()

    async def poll(self) -> int:
        """Publish what other processes changed since the last poll, every state in order; returns how many orders.

        The feed gives each order's latest row; the states it went through since it was last
        heard here are read back from its log (engine/runtime/missed_states.py), only for the orders
        whose row does not follow on from what was heard.
        """
        changed, self.cursor = await feed_reads.changes_since_counted(self.store, self.cursor)
        own = self.store.own_change_seqs
        theirs = [(order, count) for mark, order, count in changed if mark not in own]
        spans = {
            order.id: (self._heard[order.id].log_count if order.id in self._heard else 0, count)
            for order, count in theirs
            if may_have_skipped(self._heard.get(order.id), order, self._since)
        }
        slices = await feed_reads.log_slices(self.store, spans) if spans else {}
        for order, count in theirs:
            if order.id in slices:
                heard = self._heard.get(order.id)
                before = heard.status if heard is not None else None
                for update in missed_updates(order, slices[order.id], before, self._since):
                    self.on_external(update)
            self.on_external(external_update(order))
            if order.is_terminal:
                self._heard.pop(order.id, None)
            else:
                self._heard[order.id] = Heard(order.status, order.attempts, count)
        own.difference_update({mark for mark in own if self.cursor.covers(mark)})
        return len(theirs)
