"""The states another process's order went through between two looks at the change feed.

The feed gives each changed order's latest row only: a follower that looks every half second
heard an order jump from PENDING to CONFIRMED, and a `serve` WebSocket missed ROUTING or BUILDING
for 19 of 30 orders. Every state change is also in the order's log (one `apply` writes its entries
and the row in one transaction), so the states in between are rebuilt from the entries written
since the follower last heard the order: each run of entries with one status that differs from
the status before it is one state change, announced with the fields the owner announced
(`dex` from ROUTING's result on, the quoted `executionPrice` on BUILDING, `error`, `attempt` and
`retryInMs` on a retry). The row's own state is announced from the row, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.model.domain import LogEntry, Order, OrderStatus, OrderUpdate, Venue, update_message
from engine.model.log_kinds import LogKind

# State changes that cannot hide another one between them (same attempt).
_NEXT = {
    OrderStatus.PENDING: {OrderStatus.ROUTING},
    OrderStatus.ROUTING: {OrderStatus.BUILDING, OrderStatus.PENDING},
    OrderStatus.BUILDING: {OrderStatus.SUBMITTED, OrderStatus.PENDING},
    OrderStatus.SUBMITTED: {OrderStatus.CONFIRMED, OrderStatus.PENDING},
}


@dataclass(frozen=True, slots=True)
class Heard:
    """What a follower last announced of an order: its state, its attempts and how much of its log that covered."""

    status: OrderStatus
    attempts: int
    log_count: int


def may_have_skipped(heard: Heard | None, order: Order, since: datetime) -> bool:
    """Whether states may lie between what was heard and this row (then the log is read)."""
    if heard is None:
        # First heard: a fresh order is at its first state; one created or moved since the follower
        # started may have been through others.
        return not (order.status is OrderStatus.PENDING and order.attempts == 0) and order.updated_at >= since
    if order.status is heard.status:
        return order.attempts != heard.attempts  # a whole retry cycle came and went
    if order.status in (OrderStatus.FAILED, OrderStatus.CANCELLED, OrderStatus.PENDING):
        step = order.attempts == heard.attempts
    elif heard.status is OrderStatus.PENDING and order.status is OrderStatus.ROUTING:
        step = order.attempts in (heard.attempts, heard.attempts + 1)
    else:
        step = order.attempts == heard.attempts
    return not (step and order.status in _NEXT.get(heard.status, set()) | {OrderStatus.FAILED, OrderStatus.CANCELLED})


def missed_updates(
    order: Order, entries: Sequence[LogEntry], before: OrderStatus | None, since: datetime
) -> list[OrderUpdate]:
    """The state changes in `entries` (the log written since `before` was heard), oldest first, as external updates.

    The last run is the row's own state and is left out: the caller announces the row itself.
    Entries older than `since` (before the follower started) are not announced.
    """
    runs: list[tuple[OrderStatus, list[LogEntry]]] = []
    for entry in entries:
        status = OrderStatus(entry.status)
        if runs and runs[-1][0] is status:
            runs[-1][1].append(entry)
        else:
            runs.append((status, [entry]))
    # Each run's attempt number: an attempt starts at ROUTING, so a run is that many attempts short of
    # the row's. A snapshot carrying the row's own count made a retry's PENDING look later than the
    # next attempt's ROUTING, and a WebSocket follower skipped that attempt's states as already sent.
    attempts = [
        order.attempts - sum(1 for later, _ in runs[index + 1 :] if later is OrderStatus.ROUTING)
        for index in range(len(runs))
    ]
    if runs and runs[-1][0] is order.status:
        runs.pop()
    updates: list[OrderUpdate] = []
    route: dict[str, Any] = {}
    previous = before
    for (status, group), attempt_count in zip(runs, attempts, strict=False):
        for entry in group:
            if entry.kind == LogKind.BUILT and entry.data:
                route = entry.data
        last = group[-1]
        if status is previous or status.is_terminal or last.timestamp < since:
            previous = status
            continue
        previous = status
        updates.append(_update(order.evolve(attempts=max(attempt_count, 0)), status, last, route))
    return updates


def _update(order: Order, status: OrderStatus, last: LogEntry, route: dict[str, Any]) -> OrderUpdate:
    data = last.data or {}
    venue = Venue(str(route["venue"])) if status in (OrderStatus.BUILDING, OrderStatus.SUBMITTED) and route else None
    quoted = Decimal(str(route["quotedPrice"])) if status is OrderStatus.BUILDING and route else None
    retrying = status is OrderStatus.PENDING and "retryInMs" in data
    snapshot = order.evolve(
        status=status,
        updated_at=last.timestamp,
        dex=venue,
        execution_price=quoted,
        tx_hash=None,
        error=str(data["error"]) if retrying and "error" in data else None,
    )
    message = update_message(
        snapshot,
        attempt=int(data["attempt"]) if retrying and "attempt" in data else None,
        retry_in_ms=int(data["retryInMs"]) if retrying else None,
    )
    return OrderUpdate(message, snapshot, (), external=True)
