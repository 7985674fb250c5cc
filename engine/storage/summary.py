"""The summary's figures, counted by the database over every stored order.

Finished orders never change again, so the database adds each one up once, when it is stored
finished: triggers on `orders` (revision 0005) keep `order_totals` per (pair, side, status,
venue) (counts, retries, amount, notional, fee and slippage sums) and `confirm_times` per (venue,
milliseconds from submission to CONFIRMED), in the transaction that stores the order, whatever
code writes it. A count reads those few dozen rows plus the active orders grouped through the
status index; it never reads the finished orders themselves, so opening the Summary costs the
same at 100,000 orders as at 100 (it was one pass over every order: SQLite 0.6 s, PostgreSQL
0.8 s at 100,000, from `json_extract` of the quoted price and a sort of the whole table).

The sums are of the figures stored when each order was confirmed
(engine/storage/figure_columns.py): slippage in bps (positive = worse, to 0.1 bps) and fees to 8
places, as the CSV shows them, so the summary adds up the report's own numbers. On SQLite the
totals are REAL, exact enough for a summary (the CSV and the detail view keep exact values);
PostgreSQL's are NUMERIC.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.domain import ACTIVE_STATES


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


# Finished orders come from the totals the database keeps (a few dozen rows); the few active
# orders are grouped from `orders` through the status index. One statement, so one snapshot: an
# order ending meanwhile is counted once, as active or as finished.
_GROUPS = f"""
SELECT pair, direction, status, dex, orders, retried, amount, notional, fee, slippage_bps, slippage_count
FROM order_totals
UNION ALL
SELECT pair, direction, status, COALESCE(dex, ''), COUNT(*), SUM(CASE WHEN attempts > 1 THEN 1 ELSE 0 END),
       0, 0, 0, 0, 0
FROM orders
WHERE status IN ({", ".join(f"'{status}'" for status in sorted(ACTIVE_STATES))})
GROUP BY pair, direction, status, COALESCE(dex, '')
"""
_TIMES = "SELECT dex, confirm_ms, orders FROM confirm_times"


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
        confirm_ms: dict[str, Counter[int]] = {}
        for venue, milliseconds, count in await connection.execute(text(_TIMES)):
            confirm_ms.setdefault(str(venue), Counter())[int(milliseconds)] = int(count)
        return SummaryRows(groups, confirm_ms)
