"""The summary's figures, counted by the database over every stored order.

Finished orders never change again, so the database adds each one up once, when it is stored
finished: triggers on `orders` (revision 0005) keep `order_totals` per (pair, side, status,
venue) (counts, retries, amount, notional, fee and slippage sums) and `confirm_times` per (venue,
milliseconds from submission to CONFIRMED), in the transaction that stores the order, whatever
code writes it. On PostgreSQL they run once per statement and take the shared totals rows in key
order (revision 0009), so the commits of several processes never deadlock on them. A count
reads those few dozen rows plus the active orders grouped through the status index; it never
reads the finished orders themselves, so opening the Summary costs the same at 100,000 orders as
at 100 (it was one pass over every order: SQLite 0.6 s, PostgreSQL
0.8 s at 100,000, from `json_extract` of the quoted price and a sort of the whole table).

The sums are of the figures stored when each order was confirmed
(engine/storage/figure_columns.py): slippage in bps (positive = worse, to 0.1 bps) and fees to 8
places, as the CSV shows them, so the summary adds up the report's own numbers. On SQLite the
totals are REAL, exact enough for a summary (the CSV and the detail view keep exact values);
PostgreSQL's are NUMERIC.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.model.domain import ACTIVE_STATES


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


@dataclass(frozen=True, slots=True)
class SummaryRows:
    groups: tuple[GroupRow, ...] = ()
    confirm_p50_s: dict[str, float] = field(default_factory=dict)
    """The median time to CONFIRMED per venue, to the millisecond."""


def _medians_s(rows: Iterable[Sequence[Any]]) -> dict[str, float]:
    """Per venue, the middle one (or the mean of the middle two) of its CONFIRMED orders' times.

    Each row is a run of orders that took the same time: (venue, ms, orders before it, orders
    through it, orders of the venue); the database sends only the runs around the middle.
    """
    low: dict[str, int] = {}
    high: dict[str, int] = {}
    for venue, milliseconds, before, through, total in rows:
        lower, upper = (int(total) - 1) // 2, int(total) // 2
        if int(before) <= lower < int(through):
            low[str(venue)] = int(milliseconds)
        if int(before) <= upper < int(through):
            high[str(venue)] = int(milliseconds)
    return {venue: (low[venue] + high[venue]) / 2000 for venue in low if venue in high}


# Finished orders come from the totals the database keeps (a few dozen rows); the few active
# orders are grouped from `orders` through the status index. One statement, so one snapshot: an
# order ending meanwhile is counted once, as active or as finished.
_GROUPS = f"""
SELECT pair, direction, status, dex, orders, retried, amount, notional, fee, slippage_bps, slippage_count
FROM order_totals WHERE orders <> 0
UNION ALL
SELECT pair, direction, status, COALESCE(dex, ''), COUNT(*), SUM(CASE WHEN attempts > 1 THEN 1 ELSE 0 END),
       0, 0, 0, 0, 0
FROM orders
WHERE status IN ({", ".join(f"'{status}'" for status in sorted(ACTIVE_STATES))})
GROUP BY pair, direction, status, COALESCE(dex, '')
"""
# Running counts per venue in time order; only the runs that hold a middle position come back.
_MEDIAN_RUNS = """
SELECT dex, confirm_ms, through - orders, through, total
FROM (SELECT dex, confirm_ms, orders,
             SUM(orders) OVER (PARTITION BY dex ORDER BY confirm_ms ROWS UNBOUNDED PRECEDING) AS through,
             SUM(orders) OVER (PARTITION BY dex) AS total
      FROM confirm_times WHERE orders > 0) AS runs
WHERE 2 * (through - orders) <= total AND 2 * through >= total
"""


def _decimal(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(repr(float(value)))


class SummaryCounter:
    """Reads the summary's aggregates; a separate object so a caller can keep one per engine."""

    async def count(self, connection: AsyncConnection, dialect: str) -> SummaryRows:
        groups = tuple(
            GroupRow(
                pair=row[0],
                direction=row[1],
                status=row[2],
                dex=row[3] or None,
                orders=int(row[4]),
                retried=int(row[5] or 0),
                amount=_decimal(row[6]),
                notional=_decimal(row[7]),
                fees=_decimal(row[8]),
                slippage_sum_bps=float(row[9] or 0.0),
                slippage_count=int(row[10] or 0),
            )
            for row in await connection.execute(text(_GROUPS))
        )
        medians = _medians_s(await connection.execute(text(_MEDIAN_RUNS)))
        return SummaryRows(groups, medians)
