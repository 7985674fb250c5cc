"""The board's columns as data (title, alignment, width, sort key), as vn.py's monitors declare theirs.

Sort keys are plain floats, ints and strings rather than Decimals, datetimes or tuples: Python
compares those in C, so sorting 100,000 cached keys takes tens of milliseconds (Decimal and tuple
keys took seconds). Ties are broken by arrival order in the model, not inside the key.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.account.model import notional, slippage_bps
from engine.domain import Order, OrderStatus
from ui.formatting import seconds_between

_STATUS_RANK = {status: rank for rank, status in enumerate(OrderStatus)}
EMPTY_NUMBER = -math.inf  # empty number cells sort below every value


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    title: str
    numeric: bool
    width: int
    tooltip: str


class Column(enum.Enum):
    TIME = ColumnSpec("Time", False, 116, "When the order was received (local time)")
    ID = ColumnSpec("Id", False, 76, "First characters of the order id; hover for all of it")
    PAIR = ColumnSpec("Pair", False, 88, "BASE-QUOTE")
    SIDE = ColumnSpec("Side", False, 52, "BUY spends QUOTE for the amount of BASE; SELL sells it")
    AMOUNT = ColumnSpec("Amount", True, 122, "Amount of the BASE token")
    STATUS = ColumnSpec("Status", False, 100, "Where the order is in its life")
    VENUE = ColumnSpec("Venue", False, 72, "The DEX the router chose")
    PRICE = ColumnSpec("Exec. price", True, 112, "QUOTE per BASE, fees included (quoted while building)")
    NOTIONAL = ColumnSpec("Notional", True, 112, "What a confirmed order paid or received: amount × price, in QUOTE")
    SLIPPAGE = ColumnSpec("Slip. (bps)", True, 92, "How much worse than its quote it filled, in basis points")
    TX_HASH = ColumnSpec("Tx hash", False, 106, "Transaction signature; hover for all of it")
    ATTEMPTS = ColumnSpec("Att.", True, 48, "Attempts started (at most 3)")
    ELAPSED = ColumnSpec("Elapsed", True, 72, "Time from receipt to the final state (or until now)")

    @property
    def index(self) -> int:
        return _COLUMN_INDEX[self]


COLUMNS: tuple[Column, ...] = tuple(Column)
_COLUMN_INDEX = {column: number for number, column in enumerate(COLUMNS)}


def elapsed_seconds(order: Order, now: datetime | None = None) -> float:
    end = order.updated_at if order.is_terminal else (now or datetime.now(UTC))
    return seconds_between(order.created_at, end)


def _number(value: Any) -> float:
    return EMPTY_NUMBER if value is None else float(value)


SORT_KEYS: dict[Column, Callable[[Order], Any]] = {
    Column.TIME: lambda order: order.created_at.timestamp(),
    Column.ID: lambda order: order.id,
    Column.PAIR: lambda order: order.pair,
    Column.SIDE: lambda order: order.direction.value,
    Column.AMOUNT: lambda order: float(order.amount),
    Column.STATUS: lambda order: _STATUS_RANK[order.status],
    Column.VENUE: lambda order: order.dex.value if order.dex else "",
    Column.PRICE: lambda order: _number(order.execution_price),
    Column.NOTIONAL: lambda order: _number(notional(order)),
    Column.SLIPPAGE: lambda order: _number(slippage_bps(order)),
    Column.TX_HASH: lambda order: order.tx_hash or "",
    Column.ATTEMPTS: lambda order: order.attempts,
    Column.ELAPSED: elapsed_seconds,
}


def cached_elapsed_key(order: Order) -> float:
    """What the key cache keeps for Elapsed: the final figure once terminal, else minus the start time.

    A running order's elapsed time grows with the clock, so the cache keeps its start instead (as a
    negative number, which no elapsed time can be) and `resolve_elapsed` turns it into seconds at sort time.
    """
    if order.is_terminal:
        return seconds_between(order.created_at, order.updated_at)
    return -order.created_at.timestamp()


def resolve_elapsed(keys: list[float], now: float) -> list[float]:
    return [key if key >= 0 else now + key for key in keys]


CACHED_KEYS: dict[Column, Callable[[Order], Any]] = {**SORT_KEYS, Column.ELAPSED: cached_elapsed_key}


def search_text(order: Order) -> str:
    """What the one-line search looks in besides the id: pair and tx hash, lower-cased once per change."""
    return f"{order.pair.lower()}\x1f{order.tx_hash.lower() if order.tx_hash else ''}"
