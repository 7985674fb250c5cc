"""What the group-commit writer takes (`Change`) and how a write fails, shared by the store and its fast writer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.model.domain import LogEntry, Order, format_timestamp
from engine.model.jsonfmt import dumps
from engine.storage.order_codec import as_is, state_values


class StorageFailure(RuntimeError):
    """A state change could not be stored; the order keeps its last stored state and resumes later."""


class OrderLost(StorageFailure):
    """The stored order is no longer this writer's: cancelled, or taken over after its lease ran out.

    The conditional write (id, owner, version) matched nothing; the writer must stop working on the
    order and touch nothing of it. Later queued changes of the same order fail the same way.
    """


class StorageUnavailable(RuntimeError):
    """The database cannot be opened at all (bad URL, refused, wrong credentials)."""


class DatabaseMissing(StorageUnavailable):
    """A read-only command found no database there (read-only commands never create one)."""


# A log line as both databases are sent it, in `LOG_COLUMNS` order: (order_id, idx, timestamp as
# ISO 8601 text, status, message, data as JSON text or None, kind). Made once, by whoever made the
# line; SQLite stores it as it is, PostgreSQL reads it from one JSON parameter (json_rows.py).
LogRow = tuple[str, int, str, str, str, str | None, str]
# An execution for the mock chain's ledger: (signature, order_id, venue, price, executed_at, its SQLite text).
LedgerRow = tuple[str, str, str, Decimal, datetime, str]


class Change:
    """One order's state change as the group commit writes it: the row's new values, the log lines it
    appends and the execution it records, if any.

    `version` is one more than the stored version the change was made from; the write lands only
    if the row still has that version and this writer as its owner. `state` holds the values of
    `order_codec.STATE_COLUMNS` as PostgreSQL takes them (Decimal, datetime), `updated_text` the
    change's time as SQLite stores it. The engine's pass makes them directly (`Change.prepared`,
    see engine/runtime/live_order.py), with no `Order` snapshot per state; `Change(order, new_logs)`
    makes them from a snapshot (tests, the benchmark's replay). `ended` is the snapshot of an order
    that ended, which the paper account settles from in the same transaction.

    `claim_at` (the writer's clock) marks the first change of an order the writer does not own yet
    (a cluster job's copy of it): the write also claims it, if the row has no owner or one whose
    lease ran out before `claim_at`. Only the PostgreSQL group commit claims so (cluster mode
    needs PostgreSQL); elsewhere such a change is refused like any write of an order not held.
    """

    __slots__ = (
        "after",
        "claim_at",
        "done",
        "ended",
        "ledger",
        "logs",
        "new_logs",
        "order",
        "order_id",
        "state",
        "updated_text",
        "version",
    )

    def __init__(
        self,
        order: Order,
        new_logs: Sequence[LogEntry],
        executed: bool = False,
        *,
        after: Change | None = None,
    ) -> None:
        self.order: Order | None = order
        self.new_logs = new_logs
        self.order_id = order.id
        self.version = order.version
        self.state: tuple[Any, ...] = state_values(order, as_is, as_is)
        self.updated_text = format_timestamp(order.updated_at)
        first = len(order.logs) - len(new_logs)
        self.logs: tuple[LogRow, ...] = tuple(
            log_row(order.id, first + offset, entry) for offset, entry in enumerate(new_logs)
        )
        route, price = order.route, order.execution_price
        self.ledger: LedgerRow | None = None
        if executed and route is not None and price is not None:
            self.ledger = (route.signature, order.id, str(route.venue), price, order.updated_at, self.updated_text)
        self.ended: Order | None = order if order.is_terminal else None
        self.done: asyncio.Future[None] | None = None
        # An earlier change of the same order still queued or in flight: if it cannot be stored,
        # neither is this one, so a stored order never skips a state or has a gap in its log.
        self.after = after
        self.claim_at: datetime | None = None

    @classmethod
    def prepared(
        cls,
        order_id: str,
        version: int,
        state: tuple[Any, ...],
        updated_text: str,
        logs: tuple[LogRow, ...],
        *,
        ledger: LedgerRow | None = None,
        ended: Order | None = None,
        after: Change | None = None,
        claim_at: datetime | None = None,
    ) -> Change:
        """A change whose row values are already made: no snapshot, nothing worked out twice."""
        change = cls.__new__(cls)
        change.order = ended
        change.new_logs = ()
        change.order_id = order_id
        change.version = version
        change.state = state
        change.updated_text = updated_text
        change.logs = logs
        change.ledger = ledger
        change.ended = ended
        change.done = None
        change.after = after
        change.claim_at = claim_at
        return change

    @property
    def failed(self) -> bool:
        return (
            self.done is not None and self.done.done() and (self.done.cancelled() or self.done.exception() is not None)
        )

    def __repr__(self) -> str:
        return f"Change({self.order_id}, version={self.version}, status={self.state[0]})"


def log_row(order_id: str, index: int, entry: LogEntry, timestamp_text: str | None = None) -> LogRow:
    """One log line as stored; `timestamp_text` when the caller has already formatted the entry's time."""
    data = entry.data
    return (
        order_id,
        index,
        timestamp_text or format_timestamp(entry.timestamp),
        str(entry.status),
        entry.message,
        dumps(data) if data is not None else None,
        str(entry.kind),
    )
