"""What the price chart draws, apart from drawing it: market samples, fills and waiting limits per pair.

Kept free of pyqtgraph so a test can hold it against the stored orders: every CONFIRMED order of
the pair is one fill at its execution price and time, every limit order still waiting is one line.
Fills are kept as columns per pair (`PairFills`), fed straight from a history page's packed rows;
a fill's tooltip is written only when the pointer is over it.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.model.domain import Direction, Order, OrderStatus, Venue, format_timestamp
from engine.trading.router import FEES
from ui.formatting import PairFormats
from ui.order_rows import (
    DIRECTION_CODE,
    DIRECTIONS,
    NO_EXPONENT,
    NO_VENUE,
    STATUS_CODE,
    VENUE_CODE,
    VENUES,
    OrderRows,
)

SAMPLES_KEPT = 7200
NAN = float("nan")


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


class PairFills:
    """One pair's fills as columns: 8-byte times, prices and amounts, one-byte sides and venues.

    A fill used to be a `FillMark` with its tooltip text made up front (~600 bytes, 100,000 of them
    after a trading day); the tooltip is made when the pointer is over the point.
    """

    __slots__ = ("amount", "ids", "known", "price", "side", "venue", "x")

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.known: set[str] = set()
        self.x = array("d")
        self.price = array("d")
        self.amount = array("d")
        self.side = array("b")
        self.venue = array("b")

    def add(self, order_id: str, x: float, price: float, side: int, amount: float, venue: int) -> bool:
        if order_id in self.known:
            return False
        self.known.add(order_id)
        self.ids.append(order_id)
        self.x.append(x)
        self.price.append(price)
        self.side.append(side)
        self.amount.append(amount)
        self.venue.append(venue)
        return True

    def add_many(
        self,
        ids: list[str],
        x: npt.NDArray[np.float64],
        price: npt.NDArray[np.float64],
        side: npt.NDArray[np.int8],
        amount: npt.NDArray[np.float64],
        venue: npt.NDArray[np.int8],
    ) -> bool:
        """`add` for many fills of distinct orders at once (a page of history); True if any is new."""
        if self.known.isdisjoint(ids):
            fresh: list[int] | slice = slice(None)
        else:
            fresh = [index for index, order_id in enumerate(ids) if order_id not in self.known]
            ids = [ids[index] for index in fresh]
        self.known.update(ids)
        self.ids.extend(ids)
        for column, values in ((self.x, x), (self.price, price), (self.amount, amount)):
            column.frombytes(np.ascontiguousarray(values[fresh], dtype=np.float64).tobytes())
        for codes, coded in ((self.side, side), (self.venue, venue)):
            codes.frombytes(np.ascontiguousarray(coded[fresh], dtype=np.int8).tobytes())
        return bool(ids)

    def points(
        self, direction: Direction, span: tuple[float, float] | None = None
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """x, price and row index of the fills on one side, for the scatter plot (data = the row, for its
        tooltip); with `span`, only those whose x lies in it."""
        wanted = np.frombuffer(self.side, dtype=np.int8) == DIRECTION_CODE[direction]
        xs = np.frombuffer(self.x)
        if span is not None:
            wanted &= (xs >= span[0]) & (xs <= span[1])
        chosen = np.flatnonzero(wanted)
        return xs[chosen], np.frombuffer(self.price)[chosen], chosen

    def tooltip(self, row: int, pair: str, formats: PairFormats | None) -> str:
        amount, price = self.amount[row], self.price[row]
        amount_places = formats.amount_places(pair) if formats else 4
        price_places = formats.price_places(pair) if formats else 6
        venue = self.venue[row]
        moment = datetime.fromtimestamp(self.x[row], UTC)
        return (
            f"{DIRECTIONS[self.side[row]]} {amount:,.{amount_places}f} {pair} @ {price:,.{price_places}f}"
            f" on {VENUES[venue] if venue != NO_VENUE else '?'}\n"
            f"order {self.ids[row][:8]} · {format_timestamp(moment)[11:19]} UTC"
        )


class ChartModel:
    """Per pair: recent market samples, fills (one per CONFIRMED order) and waiting limit lines."""

    def __init__(self, formats: PairFormats | None = None) -> None:
        self.formats = formats
        self._samples: dict[str, deque[Sample]] = {}
        self._fills: dict[str, PairFills] = {}
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

    def _pair_fills(self, pair: str) -> PairFills:
        fills = self._fills.get(pair)
        if fills is None:
            fills = self._fills[pair] = PairFills()
        return fills

    def apply(self, orders: Iterable[Order]) -> bool:
        """Take order snapshots (updates, waiting limits); True if anything drawn changed."""
        changed = False
        for order in orders:
            limits = self._limits.setdefault(order.pair, {})
            price = order.execution_price
            if order.status is OrderStatus.CONFIRMED and price is not None:
                changed = self._pair_fills(order.pair).add(
                    order.id, order.updated_at.timestamp(), float(price), DIRECTION_CODE[order.direction],
                    float(order.amount), NO_VENUE if order.dex is None else VENUE_CODE[order.dex],
                ) or changed  # fmt: skip
            if order.is_waiting_limit and order.terms.price_bound is not None:
                bound = order.terms.price_bound
                word = "≤" if order.direction is Direction.BUY else "≥"
                label = f"limit {order.direction} {order.amount} {word} {bound}"
                limits[order.id] = LimitLine(order.id, float(bound), order.direction, label)
                changed = True
            elif limits.pop(order.id, None) is not None:
                changed = True
        return changed

    def apply_rows(self, rows: OrderRows) -> bool:
        """Fills of a page of history, read off its columns (no `Order` is built); True if any is new.

        Each pair's fills are added as arrays; only a page holding a decimal of more than 18 digits
        takes the slow path, an `Order` for that row.
        """
        confirmed = np.frombuffer(rows.status, dtype=np.int8) == STATUS_CODE[OrderStatus.CONFIRMED]
        price, amount = rows.price, rows.amount
        odd = [row for row in sorted(price.odd.keys() | amount.odd.keys()) if confirmed[row]]
        if odd:
            changed = self.apply([rows[row] for row in odd])
            confirmed[odd] = False
        else:
            changed = False
        wanted = np.flatnonzero(confirmed & (np.frombuffer(price.exponents, dtype=np.int8) != NO_EXPONENT))
        if not len(wanted):
            return changed
        pairs = [rows.pairs[row] for row in wanted.tolist()]
        codes: dict[str, int] = {}
        pair_codes = np.array([codes.setdefault(pair, len(codes)) for pair in pairs], dtype=np.int64)
        x = np.frombuffer(rows.updated, dtype=np.int64)[wanted] / 1e6
        prices, amounts = price.floats(NAN)[wanted], amount.floats(NAN)[wanted]
        sides = np.frombuffer(rows.direction, dtype=np.int8)[wanted]
        venues = np.frombuffer(rows.venue, dtype=np.int8)[wanted]
        for pair, code in codes.items():
            chosen = np.flatnonzero(pair_codes == code)
            ids = [rows.ids[row] for row in wanted[chosen].tolist()]
            fills = self._pair_fills(pair)
            added = fills.add_many(ids, x[chosen], prices[chosen], sides[chosen], amounts[chosen], venues[chosen])
            changed = added or changed
        return changed

    def points(self, pair: str, direction: Direction, span: tuple[float, float] | None = None) -> tuple[Any, Any, Any]:
        fills = self._fills.get(pair)
        if fills is None:
            empty = np.zeros(0)
            return empty, empty, np.zeros(0, dtype=np.int64)
        return fills.points(direction, span)

    def tooltip(self, pair: str, row: int) -> str:
        return self._fills[pair].tooltip(row, pair, self.formats)

    def fills(self, pair: str) -> list[FillMark]:
        """Every fill of `pair` as marks, oldest first (for a test or a caller that wants them whole)."""
        fills = self._fills.get(pair)
        if fills is None:
            return []
        marks = [
            FillMark(fills.ids[row], fills.x[row], fills.price[row], DIRECTIONS[fills.side[row]],
                     fills.tooltip(row, pair, self.formats))
            for row in range(len(fills.ids))
        ]  # fmt: skip
        return sorted(marks, key=lambda mark: mark.x)

    def limits(self, pair: str) -> list[LimitLine]:
        return list(self._limits.get(pair, {}).values())
