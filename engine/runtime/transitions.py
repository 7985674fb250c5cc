"""Commit-then-announce, the one way an order's state may change, in one pass per change.

Each change reads the running order (`LiveOrder`) once and makes, side by side, the row values
the group commit stores (`Change.prepared`: the state columns, the log lines with their JSON
data, the ledger entry) and the update message it announces once that row is stored. The change's
time is formatted once and shared by the message, the SQLite row and its log lines; the route's
JSON is made once per route. No `Order` snapshot is made unless the order ended (the paper account
settles from it) or a listener asks for one (`OrderUpdate.order`, built lazily).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from engine.model.clock import Clock
from engine.model.domain import LogEntry, Order, OrderStatus, OrderUpdate, format_timestamp, state_message
from engine.model.lifecycle import check_transition
from engine.model.log_kinds import LogKind
from engine.runtime.events import UpdateHub
from engine.runtime.live_order import LiveOrder
from engine.storage import Change, OrderStore
from engine.storage.changes import LedgerRow, log_row


@dataclass(slots=True)
class Transitions:
    """Commit-then-announce, the one way an order's state may change."""

    store: OrderStore
    hub: UpdateHub
    clock: Clock
    # Each order's latest change not yet known to be stored (or known to have failed: then every
    # later change of that order is refused by the store as well).
    _tail: dict[str, Change] = field(default_factory=dict)

    def now(self) -> datetime:
        """The clock's time to the millisecond, the precision every stored timestamp keeps."""
        moment = self.clock.utc_now()
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    def entry(
        self,
        status: OrderStatus,
        kind: LogKind,
        message: str,
        data: dict[str, Any] | None = None,
        *,
        at: datetime | None = None,
    ) -> LogEntry:
        return LogEntry(at or self.now(), status, kind, message, data)

    async def apply(
        self,
        order: Order,
        logs: list[LogEntry],
        *,
        durable: bool = True,
        executed: bool = False,
        attempt: int | None = None,
        retry_in_ms: int | None = None,
        at: datetime | None = None,
        queued: Callable[[], None] | None = None,
        **changes: Any,
    ) -> Order:
        """`apply_live` for a caller holding an `Order` (a resume, the limit book): the new snapshot."""
        live = LiveOrder(order)
        await self.apply_live(
            live,
            logs,
            durable=durable,
            executed=executed,
            attempt=attempt,
            retry_in_ms=retry_in_ms,
            at=at,
            queued=queued,
            **changes,
        )
        return live.snapshot()

    async def apply_live(
        self,
        live: LiveOrder,
        logs: list[LogEntry],
        *,
        durable: bool = True,
        executed: bool = False,
        attempt: int | None = None,
        retry_in_ms: int | None = None,
        at: datetime | None = None,
        queued: Callable[[], None] | None = None,
        **changes: Any,
    ) -> None:
        """Queue the new state for the group commit; announce it when, and only if, it is stored.

        With `durable` (the default) this returns once the state is stored and announced. Without,
        it returns at once, for steps whose next work has no effect outside the process; the
        store keeps one order's changes in order, so the next durable step covers this one.
        `queued` is called once the change is queued, before waiting for its commit.
        """
        new_logs = tuple(logs)
        if "status" in changes:
            check_transition(live.status, changes["status"])
        moment = at or self.now()
        # One more than the version it was made from: the store writes it only over that version.
        live.change(moment, new_logs, changes)
        order_id, status = live.id, live.status
        at_text = format_timestamp(moment)
        # An order that ended is needed whole: the paper account settles from it, its waiters get it.
        ended = live.snapshot() if status.is_terminal else None
        first = len(live.logs) - len(new_logs)
        log_rows = tuple(
            log_row(order_id, first + offset, entry, at_text if entry.timestamp == moment else None)
            for offset, entry in enumerate(new_logs)
        )
        ledger: LedgerRow | None = None
        route, price = live.route, live.execution_price
        if executed and route is not None and price is not None:
            ledger = (route.signature, order_id, str(route.venue), price, moment, at_text)
        claim_at = None
        if live.claims:
            # The first write of an order this process does not own yet claims it (a job's copy).
            claim_at, live.claims = self.clock.utc_now(), False
        change = Change.prepared(
            order_id,
            live.version,
            live.state(ended),
            at_text,
            log_rows,
            ledger=ledger,
            ended=ended,
            after=self._tail.get(order_id),
            claim_at=claim_at,
        )
        message = state_message(
            order_id,
            status,
            at_text,
            live.dex,
            price,
            live.tx_hash,
            live.error,
            attempt=attempt,
            retry_in_ms=retry_in_ms,
        )
        update = OrderUpdate(
            message,
            ended,
            new_logs,
            build=None if ended is not None else live.frozen(),
            state=(order_id, status, live.version, live.attempts, moment),
        )
        self._tail[order_id] = change
        stored = self.store.enqueue(change)
        stored.add_done_callback(partial(self._announce, change, update))
        if queued is not None:
            queued()
        if durable:
            await stored

    def forget(self, order_id: str) -> None:
        """The order left this engine (ended, cancelled, or lost to another process)."""
        self._tail.pop(order_id, None)

    def _announce(self, change: Change, update: OrderUpdate, stored: asyncio.Future[None]) -> None:
        if stored.cancelled() or stored.exception() is not None:
            return  # not stored, so never announced; the failed tail makes the store refuse what follows
        if self._tail.get(change.order_id) is change:
            del self._tail[change.order_id]
        self.hub.publish(update)
