"""The summary a trader reads: counts, notional bought and sold, fees, slippage, retries, time to CONFIRMED.

Built from the database's grouped aggregates (`engine.storage.summary`), never from the orders
a board happens to hold, so it covers every stored order. Notional and fees are kept per QUOTE
token (USDC and SOL are never added together). Slippage is in basis points, positive = worse
than quoted; a group's average weighs each executed order once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from engine.model.domain import Direction, OrderStatus
from engine.storage.summary import SummaryRows
from engine.trading.pairs import PairCatalog


@dataclass(slots=True)
class Figures:
    """One line of the summary: a pair, a venue, a QUOTE token, or everything."""

    orders: int = 0
    confirmed: int = 0
    failed: int = 0
    cancelled: int = 0
    retried: int = 0
    volume: Decimal = Decimal(0)  # BASE units, CONFIRMED orders (per pair only)
    bought: Decimal = Decimal(0)  # QUOTE spent on CONFIRMED BUYs
    sold: Decimal = Decimal(0)  # QUOTE received for CONFIRMED SELLs
    fees: Decimal = Decimal(0)  # QUOTE, the venues' fees inside those notionals
    slippage_sum_bps: float = 0.0
    slippage_count: int = 0
    confirm_p50_s: float | None = None

    @property
    def finished(self) -> int:
        return self.confirmed + self.failed

    @property
    def active(self) -> int:
        return self.orders - self.confirmed - self.failed - self.cancelled

    @property
    def notional(self) -> Decimal:
        return self.bought + self.sold

    @property
    def average_price(self) -> Decimal | None:
        return self.notional / self.volume if self.volume else None

    @property
    def average_slippage_bps(self) -> float | None:
        return self.slippage_sum_bps / self.slippage_count if self.slippage_count else None


@dataclass(slots=True)
class OrderSummary:
    total: Figures = field(default_factory=Figures)
    pairs: dict[str, Figures] = field(default_factory=dict)
    venues: dict[str, Figures] = field(default_factory=dict)
    quote_tokens: dict[str, Figures] = field(default_factory=dict)


def build_summary(rows: SummaryRows, catalog: PairCatalog) -> OrderSummary:
    pairs: dict[str, Figures] = defaultdict(Figures)
    venues: dict[str, Figures] = defaultdict(Figures)
    tokens: dict[str, Figures] = defaultdict(Figures)
    total = Figures()
    for group in rows.groups:
        spec = catalog.get(group.pair)
        token = spec.quote if spec else group.pair.rsplit("-", 1)[-1]
        side = Direction(group.direction)
        status = OrderStatus(group.status)
        buckets = [pairs[group.pair], tokens[token], total]
        if group.dex is not None:
            buckets.append(venues[group.dex])
        for bucket in buckets:
            bucket.orders += group.orders
            bucket.retried += group.retried
            if status is OrderStatus.CONFIRMED:
                bucket.confirmed += group.orders
                if side is Direction.BUY:
                    bucket.bought += group.notional
                else:
                    bucket.sold += group.notional
                bucket.fees += group.fees
                bucket.slippage_sum_bps += group.slippage_sum_bps
                bucket.slippage_count += group.slippage_count
            elif status is OrderStatus.FAILED:
                bucket.failed += group.orders
            elif status is OrderStatus.CANCELLED:
                bucket.cancelled += group.orders
        if status is OrderStatus.CONFIRMED:
            pairs[group.pair].volume += group.amount
    for venue, seconds in rows.confirm_p50_s.items():
        venues[venue].confirm_p50_s = seconds
    return OrderSummary(total, dict(pairs), dict(venues), dict(tokens))
