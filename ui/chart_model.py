"""What the price chart draws, apart from drawing it: market samples, fills and waiting limits per pair.

Kept free of pyqtgraph so a test can hold it against the stored orders: every CONFIRMED order of
the pair is one fill at its execution price and time, every limit order still waiting is one line.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from engine.model.domain import Direction, Order, OrderStatus, Venue, format_timestamp
from engine.trading.router import FEES

SAMPLES_KEPT = 7200


@dataclass(frozen=True, slots=True)
class FillMark:
    order_id: str
    x: float  # seconds since the epoch, UTC
    price: float
    direction: Direction
    tooltip: str


@dataclass(frozen=True, slots=True)
class LimitLine:
    order_id: str
    price: float
    direction: Direction
    label: str


@dataclass(frozen=True, slots=True)
class Sample:
    x: float
    reference: float
    venues: dict[Venue, float]  # pool prices; `effective_prices` gives what BUY and SELL pay


def effective_prices(sample: Sample) -> dict[tuple[Venue, Direction], float]:
    """What a small BUY pays and a small SELL receives on each venue, fees included.

    These are the prices limit orders trigger on and fills execute at (engine/trading/router.py), so the
    chart draws these rather than the bare pool prices: a limit line is crossed exactly when its
    venue's line crosses it, and a fill sits on its venue's line (larger orders also pay price
    impact, so they sit a little beyond it).
    """
    return {
        (venue, direction): pool * (1 + rate if direction is Direction.BUY else 1 - rate)
        for venue, pool in sample.venues.items()
        for rate in [float(FEES[venue])]
        for direction in Direction
    }


def fill_tooltip(order: Order) -> str:
    price = order.execution_price
    return (
        f"{order.direction} {order.amount} {order.pair} @ {price} on {order.dex}\n"
        f"order {order.id[:8]} · {format_timestamp(order.updated_at)[11:19]} UTC"
    )


class ChartModel:
    """Per pair: recent market samples, fills (one per CONFIRMED order) and waiting limit lines."""

    def __init__(self) -> None:
        self._samples: dict[str, deque[Sample]] = {}
        self._fills: dict[str, dict[str, FillMark]] = {}
        self._limits: dict[str, dict[str, LimitLine]] = {}

    def add_sample(self, pair: str, sample: Sample) -> None:
        samples = self._samples.setdefault(pair, deque(maxlen=SAMPLES_KEPT))
        if samples and sample.x <= samples[-1].x:
            return
        samples.append(sample)

    def backfill(self, pair: str, samples: Iterable[Sample]) -> None:
        """Older samples before what the pair has (the chart opening on a pair draws its recent past)."""
        existing = self._samples.get(pair, deque())
        first = existing[0].x if existing else float("inf")
        older = sorted((s for s in samples if s.x < first), key=lambda s: s.x)
        self._samples[pair] = deque([*older, *existing], maxlen=SAMPLES_KEPT)

    def samples(self, pair: str) -> list[Sample]:
        return list(self._samples.get(pair, ()))

    def apply(self, orders: Iterable[Order]) -> bool:
        """Take order snapshots (history or updates); True if anything drawn changed."""
        changed = False
        for order in orders:
            fills = self._fills.setdefault(order.pair, {})
            limits = self._limits.setdefault(order.pair, {})
            confirmed = order.status is OrderStatus.CONFIRMED and order.execution_price is not None
            if confirmed and order.id not in fills:
                fills[order.id] = FillMark(
                    order.id,
                    order.updated_at.timestamp(),
                    float(order.execution_price),  # type: ignore[arg-type]
                    order.direction,
                    fill_tooltip(order),
                )
                changed = True
            if order.is_waiting_limit and order.terms.price_bound is not None:
                price = order.terms.price_bound
                assert price is not None
                word = "≤" if order.direction is Direction.BUY else "≥"
                label = f"limit {order.direction} {order.amount} {word} {price}"
                limits[order.id] = LimitLine(order.id, float(price), order.direction, label)
                changed = True
            elif limits.pop(order.id, None) is not None:
                changed = True
        return changed

    def fills(self, pair: str) -> list[FillMark]:
        return sorted(self._fills.get(pair, {}).values(), key=lambda mark: mark.x)

    def limits(self, pair: str) -> list[LimitLine]:
        return list(self._limits.get(pair, {}).values())
