"""The order an attempt is running, as values that change in place: no `Order` snapshot per state.

An attempt used to copy the whole `Order` (28 fields and its growing log) at every state change,
only to read a dozen of them back to build the stored row and the update message. A `LiveOrder`
keeps the fields a state change may touch as plain attributes over the order the attempt started
from (`base`); `engine/runtime/transitions.py` reads them once per change to make the row to store
and the message to announce. A snapshot is built only when one is asked for: by a listener
(`OrderUpdate.order`, lazily, from `frozen()`), for an order that ended (the paper account settles
from it, waiters get it) and at the attempt's end (the engine keeps it for the next attempt).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.model.domain import LogEntry, Order, OrderStatus, Route, Venue
from engine.model.jsonfmt import dumps
from engine.storage.figure_columns import NO_FIGURES, figure_values
from engine.storage.order_codec import as_is

# The fields a state change may set, in the order `frozen()` captures them.
FIELDS = (
    "status",
    "dex",
    "execution_price",
    "tx_hash",
    "attempts",
    "error",
    "updated_at",
    "route",
    "version",
    "retry_at",
    "trigger_time",
)
_SETTABLE = frozenset(FIELDS) - {"updated_at", "version"}


class LiveOrder:
    """One order's changing state during an attempt, over the stored order it started from."""

    __slots__ = (
        "_json_of",
        "_route_json",
        "_snapshot",
        "attempts",
        "base",
        "claims",
        "dex",
        "error",
        "execution_price",
        "id",
        "logs",
        "retry_at",
        "route",
        "status",
        "trigger_time",
        "tx_hash",
        "updated_at",
        "version",
    )

    def __init__(self, order: Order) -> None:
        # What does not change during an attempt (pair, amount, direction, terms, seq…) is read off
        # `base`; the router is handed `base`, since it reads nothing else.
        self.base = order
        self.id = order.id
        self.status: OrderStatus = order.status
        self.dex: Venue | None = order.dex
        self.execution_price: Decimal | None = order.execution_price
        self.tx_hash: str | None = order.tx_hash
        self.attempts = order.attempts
        self.error: str | None = order.error
        self.updated_at: datetime = order.updated_at
        self.route: Route | None = order.route
        self.version = order.version
        self.retry_at: datetime | None = order.retry_at
        self.trigger_time: float | None = order.trigger_time
        self.logs: list[LogEntry] = list(order.logs)
        self._snapshot: Order | None = order
        # Its next change claims the stored order too (a cluster job's copy, not yet owned here).
        self.claims = False
        self._json_of: Route | None = None
        self._route_json: str | None = None

    def change(self, at: datetime, new_logs: tuple[LogEntry, ...], changes: dict[str, Any]) -> None:
        """Apply one state change: the fields given, the time, one more version, the new log lines."""
        for name, value in changes.items():
            if name not in _SETTABLE:
                raise TypeError(f"a state change cannot set {name!r}")
            setattr(self, name, value)
        self.updated_at = at
        self.version += 1
        self.logs.extend(new_logs)
        self._snapshot = None

    def route_json(self) -> str | None:
        """The route as stored (JSON text), made once per route rather than once per state."""
        route = self.route
        if route is None:
            return None
        if route is not self._json_of:
            self._json_of, self._route_json = route, dumps(route.to_json())
        return self._route_json

    def state(self, ended: Order | None) -> tuple[Any, ...]:
        """The values of `order_codec.STATE_COLUMNS`, as `state_values(snapshot, as_is, as_is)` gives them.

        `ended` is the snapshot of an order that just ended: a CONFIRMED one stores its figures.
        """
        dex = self.dex
        return (
            str(self.status),
            str(dex) if dex else None,
            self.execution_price,
            self.tx_hash,
            self.attempts,
            self.error,
            self.updated_at,
            self.route_json(),
            len(self.logs),
            self.version,
            self.retry_at,
            *(figure_values(ended, as_is) if ended is not None else NO_FIGURES),
        )

    def snapshot(self) -> Order:
        """The order as it stands now, built once per state and only when asked for."""
        snapshot = self._snapshot
        if snapshot is None:
            snapshot = self._snapshot = _build(self.base, self._values(), self.logs, len(self.logs))
        return snapshot

    def frozen(self) -> tuple[Any, ...]:
        """How to build the snapshot of this very state later, whatever changes come after it.

        `(function, *arguments)` in one flat tuple (see `OrderUpdate`): the log list is shared, and
        only ever grows, so its length now says which lines are this state's.
        """
        return (_build_flat, self.base, self.logs, len(self.logs), *self._values())

    def _values(self) -> tuple[Any, ...]:
        return (
            self.status,
            self.dex,
            self.execution_price,
            self.tx_hash,
            self.attempts,
            self.error,
            self.updated_at,
            self.route,
            self.version,
            self.retry_at,
            self.trigger_time,
        )


def _build_flat(base: Order, logs: list[LogEntry], count: int, *values: Any) -> Order:
    return _build(base, values, logs, count)


def _build(base: Order, values: tuple[Any, ...], logs: list[LogEntry], count: int) -> Order:
    """The snapshot of a state: the log only ever grows, so its first `count` lines are that state's."""
    return base.evolve(logs=tuple(logs[:count]), **dict(zip(FIELDS, values, strict=True)))
