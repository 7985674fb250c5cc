"""The summary's figures, counted by the database: SQL aggregates over every stored order.

Grouped queries: by (pair, side, status, venue) for counts, retries, notional, fee and slippage
sums, for finished and for active orders apart; by (venue, milliseconds from submission to
CONFIRMED) for the median time to CONFIRMED. Only group rows come back to Python, never orders.
They read the figures stored when each order was confirmed (engine/storage/figure_columns.py)
from partial covering indexes over finished orders, already in GROUP BY order: the first count
at 100,000 orders walks two indexes instead of parsing JSON and sorting the table (SQLite 0.6 s,
PostgreSQL 0.8 s before).

Finished orders never change again, so the counter keeps the sums of the oldest run of finished
orders (every seq up to the first still-active order) and only asks the database about the rest:
the first count scans everything once; after that a refresh reads the orders of a running burst
at most, which keeps a live Summary cheap at 100,000 stored orders.

On SQLite decimals are stored as exact text; the aggregates read them as REAL, which is exact
enough for a summary (the CSV and the detail view keep the exact values). Slippage is the sum
of the orders' stored bps (positive = worse, to 0.1 bps, as the CSV shows them), and fees the sum
of their stored fees: the summary adds up the report's own numbers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.domain import ACTIVE_STATES
from engine.storage.schema import FINISHED_SQL


@dataclass(frozen=True, slots=True)
class GroupRow:
    pair: str
    direction: str
    status: str
    dex: str | None
    orders: int
    retried: int
    amount: Decimal
    notional: Decimal
    fees: Decimal
    slippage_sum_bps: float  # positive = worse than quoted, as stored per order
    slippage_count: int

    def key(self) -> tuple[str, str, str, str | None]:
        return (self.pair, self.direction, self.status, self.dex)

    def plus(self, other: GroupRow) -> GroupRow:
        return replace(
            self,
            orders=self.orders + other.orders,
            retried=self.retried + other.retried,
            amount=self.amount + other.amount,
            notional=self.notional + other.notional,
            fees=self.fees + other.fees,
            slippage_sum_bps=self.slippage_sum_bps + other.slippage_sum_bps,
            slippage_count=self.slippage_count + other.slippage_count,
        )


@dataclass(frozen=True, slots=True)
class SummaryRows:
    groups: tuple[GroupRow, ...] = ()
    confirm_ms: dict[str, Counter[int]] = field(default_factory=dict)
    """Per venue: how many CONFIRMED orders took each whole number of milliseconds from submission."""

    def plus(self, other: SummaryRows) -> SummaryRows:
        groups = {group.key(): group for group in self.groups}
        for group in other.groups:
            known = groups.get(group.key())
            groups[group.key()] = group if known is None else known.plus(group)
        confirm_ms = {venue: Counter(counts) for venue, counts in self.confirm_ms.items()}
        for venue, counts in other.confirm_ms.items():
            confirm_ms.setdefault(venue, Counter()).update(counts)
        return SummaryRows(tuple(groups.values()), confirm_ms)

    @property
    def confirm_p50_s(self) -> dict[str, float]:
        """The median time to CONFIRMED per venue, to the millisecond."""
        return {venue: _median_ms(counts) / 1000 for venue, counts in self.confirm_ms.items() if counts}


def _median_ms(counts: Counter[int]) -> float:
    total = sum(counts.values())
    lower, upper = (total - 1) // 2, total // 2  # the middle one, or the middle two
    seen = 0
    low_value: int | None = None
    for value in sorted(counts):
        seen += counts[value]
        if low_value is None and seen > lower:
            low_value = value
        if seen > upper:
            assert low_value is not None
            return (low_value + value) / 2
    return 0.0


_NUMBER = {"sqlite": "CAST({} AS REAL)", "postgresql": "{}"}

# Finished orders (most of a database) come from the partial covering index over them, which is
# already in GROUP BY order: no table rows, no sort. The few active orders are counted apart.
_GROUPS = """
SELECT pair, direction, status, dex,
       COUNT(*) AS orders,
       SUM(CASE WHEN attempts > 1 THEN 1 ELSE 0 END) AS retried,
       SUM({amount}) AS amount,
       SUM({notional}) AS notional,
       SUM({fee}) AS fee,
       SUM({slippage}) AS slip,
       COUNT(slippage_bps) AS slip_n
FROM orders{hint}
WHERE seq > :low AND seq <= :high AND {which}
GROUP BY pair, direction, status, dex
"""
_ACTIVE_NAMES = ", ".join(f"'{status}'" for status in sorted(ACTIVE_STATES))
_ACTIVE = f"status IN ({_ACTIVE_NAMES})"  # answered from the status index: a handful of rows

_TIMES = """
SELECT dex, confirm_ms, COUNT(*)
FROM orders{hint}
WHERE seq > :low AND seq <= :high AND status = 'CONFIRMED' AND dex IS NOT NULL AND confirm_ms IS NOT NULL
GROUP BY dex, confirm_ms
"""

# `seq + 0`: not the primary key's order, so PostgreSQL answers from the status index instead of
# walking the whole key looking for an active row (66 ms at 100,000 finished orders; now < 1 ms).
_FIRST_ACTIVE = f"SELECT MIN(seq + 0) FROM orders WHERE {_ACTIVE}"
_LAST = "SELECT COALESCE(MAX(seq), 0) FROM orders"


def _decimal(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(repr(float(value)))


def _hint(dialect: str, index: str, low: int, high: int, last: int) -> str:
    """SQLite's planner prefers the status index with a seq range, then sorts: right for a short
    range, 4x slower than walking the covering index for most of the table (its estimates do not
    know how many rows a range holds). PostgreSQL's planner sees the bounds and chooses itself."""
    return f" INDEXED BY {index}" if dialect == "sqlite" and (high - low) * 4 >= last else ""


async def _rows_between(connection: AsyncConnection, dialect: str, low: int, high: int, last: int) -> SummaryRows:
    """The aggregates of the orders with low < seq <= high."""
    if high <= low:
        return SummaryRows()
    number = _NUMBER[dialect]
    bounds = {"low": low, "high": high}
    groups: list[GroupRow] = []
    for which, hint in ((FINISHED_SQL, _hint(dialect, "ix_orders_summary", low, high, last)), (_ACTIVE, "")):
        groups_sql = _GROUPS.format(
            amount=number.format("amount"),
            notional=number.format("notional"),
            fee=number.format("fee"),
            slippage=number.format("slippage_bps"),
            hint=hint,
            which=which,
        )
        groups.extend(
            GroupRow(
                pair=row[0],
                direction=row[1],
                status=row[2],
                dex=row[3],
                orders=int(row[4]),
                retried=int(row[5] or 0),
                amount=_decimal(row[6]),
                notional=_decimal(row[7]),
                fees=_decimal(row[8]),
                slippage_sum_bps=float(row[9] or 0.0),
                slippage_count=int(row[10] or 0),
            )
            for row in await connection.execute(text(groups_sql), bounds)
        )
    confirm_ms: dict[str, Counter[int]] = {}
    times = text(_TIMES.format(hint=_hint(dialect, "ix_orders_confirm_ms", low, high, last)))
    for venue, milliseconds, count in await connection.execute(times, bounds):
        confirm_ms.setdefault(str(venue), Counter())[int(milliseconds)] += int(count)
    return SummaryRows(tuple(groups), confirm_ms)


class SummaryCounter:
    """Counts every stored order, keeping the sums of the run of orders that can no longer change."""

    def __init__(self) -> None:
        self._settled = SummaryRows()
        self._settled_through = 0  # every order with seq <= this is finished and in `_settled`
        self.rows_read_last = 0

    async def count(self, connection: AsyncConnection, dialect: str) -> SummaryRows:
        first_active = (await connection.execute(text(_FIRST_ACTIVE))).scalar()
        last = int((await connection.execute(text(_LAST))).scalar() or 0)
        settle_through = last if first_active is None else int(first_active) - 1
        if settle_through > self._settled_through:
            newly = await _rows_between(connection, dialect, self._settled_through, settle_through, last)
            self._settled = self._settled.plus(newly)
            self._settled_through = settle_through
        fresh = await _rows_between(connection, dialect, self._settled_through, last, last)
        self.rows_read_last = last - self._settled_through
        return self._settled.plus(fresh)
