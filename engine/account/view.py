"""What `dexdesk account` and the desk's Account panel show: balances, positions, PnL and fees.

Positions are kept per pair from the account's fills in the order they executed, with average
cost: a BUY that adds to a long (or a SELL that adds to a short) moves the average; a fill against
the position realizes `(exit − average) × size` in the QUOTE token. The tokens the account started
with open their home pair's position at their mark at reset (engine/account/market.py), so
selling them closes a long rather than opening a short. Unrealized PnL marks the open position to
the pair's reference price now, in the account's own market. A starting token sold on another
pair than its home is drawn from the home holding at that pair's mark at reset (`_draw_starting`).
Everything is in each pair's QUOTE token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.account.model import Balance, Fill
from engine.model.domain import Direction, format_timestamp


@dataclass(slots=True)
class Position:
    pair: str
    size: Decimal = Decimal(0)  # BASE units; negative when more was sold than bought
    average_cost: Decimal = Decimal(0)
    realized: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    fills: int = 0
    mark: Decimal | None = None
    starting: Decimal = Decimal(0)  # BASE the account started with, opened at its mark at reset

    @property
    def quote(self) -> str:
        return self.pair.split("-")[1]

    @property
    def unrealized(self) -> Decimal:
        if self.mark is None or self.size == 0:
            return Decimal(0)
        return (self.mark - self.average_cost) * self.size

    def add(self, fill: Fill) -> None:
        signed = fill.amount if fill.direction is Direction.BUY else -fill.amount
        self.fills += 1
        self.fees += fill.fee
        if self.size == 0 or (self.size > 0) == (signed > 0):
            total = abs(self.size) + fill.amount
            self.average_cost = (self.average_cost * abs(self.size) + fill.price * fill.amount) / total
            self.size += signed
            return
        closing = min(abs(self.size), fill.amount)
        direction = 1 if self.size > 0 else -1
        self.realized += (fill.price - self.average_cost) * closing * direction
        self.size += signed
        if self.size == 0:
            self.average_cost = Decimal(0)
        elif (self.size > 0) != (direction > 0):
            self.average_cost = fill.price  # flipped: the rest opens a new position at this price

    def to_json(self) -> dict[str, Any]:
        return {
            "pair": self.pair,
            "size": self.size,
            "averageCost": _round(self.average_cost),
            "mark": self.mark,
            "realizedPnl": _round(self.realized),
            "unrealizedPnl": _round(self.unrealized),
            "feesPaid": _round(self.fees),
            "fills": self.fills,
            "startingSize": self.starting,
            "currency": self.quote,
        }


def _round(value: Decimal) -> Decimal:
    return value.quantize(Decimal("1e-8")).normalize() if value else Decimal(0)


@dataclass(slots=True)
class AccountView:
    started_at: datetime
    balances: list[Balance]
    positions: list[Position] = field(default_factory=list)

    def pnl_by_currency(self) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
        """Realized, unrealized and fees per QUOTE token."""
        totals: dict[str, tuple[Decimal, Decimal, Decimal]] = {}
        for position in self.positions:
            realized, unrealized, fees = totals.get(position.quote, (Decimal(0), Decimal(0), Decimal(0)))
            totals[position.quote] = (
                realized + position.realized,
                unrealized + position.unrealized,
                fees + position.fees,
            )
        return totals

    def to_json(self) -> dict[str, Any]:
        return {
            "startedAt": format_timestamp(self.started_at),
            "balances": [
                {"token": b.token, "total": b.total, "reserved": b.reserved, "available": b.available}
                for b in self.balances
            ],
            "positions": [position.to_json() for position in self.positions],
            "pnl": {
                currency: {"realized": _round(r), "unrealized": _round(u), "feesPaid": _round(f)}
                for currency, (r, u, f) in sorted(self.pnl_by_currency().items())
            },
        }


def build_view(
    started_at: datetime,
    balances: list[Balance],
    fills: Iterable[Fill],
    mark: Callable[[str], Decimal | None],
    start_marks: dict[str, tuple[Decimal, Decimal]] | None = None,
) -> AccountView:
    """Positions from the starting holdings (pair → size, mark at reset) and then each fill, in fill order.

    A starting token is one holding, shown in its home pair (a token that is no listed pair's BASE,
    USDT, is a holding under its own name, not shown). A SELL of it on another pair (SOL on
    SOL-USDT or SOL-RAY) that would open a short there first draws what is left of the starting
    holding from the home pair, at that pair's own mark at reset (stored with size 0): the sale
    closes a long, as it did on the home pair, and the starting SOL is never counted twice.
    """
    positions: dict[str, Position] = {}
    costs: dict[str, Decimal] = {}  # pair → its mark at reset: the cost basis of starting BASE sold there
    homes: dict[str, Position] = {}  # token → the position holding its starting amount
    for pair, (size, cost) in (start_marks or {}).items():
        if "-" not in pair:  # a token with no home pair (USDT): a holding, never shown as a position
            homes[pair] = Position(pair, size=size, starting=size)
            continue
        costs[pair] = cost
        if size > 0:
            positions[pair] = Position(pair, size=size, average_cost=cost, starting=size)
            homes[pair.split("-")[0]] = positions[pair]
    for fill in fills:
        position = positions.setdefault(fill.pair, Position(fill.pair))
        home = homes.get(fill.pair.split("-")[0])
        if fill.direction is Direction.SELL and home is not None and home is not position and fill.pair in costs:
            _draw_starting(home, position, fill.amount, costs[fill.pair])
        position.add(fill)
    for position in positions.values():
        position.mark = mark(position.pair)
    return AccountView(started_at, balances, sorted(positions.values(), key=lambda p: p.pair))


def _draw_starting(home: Position, position: Position, selling: Decimal, cost: Decimal) -> None:
    """Move what of the home pair's starting holding a sale on `position`'s pair needs to stay long.

    Only what is still held from the start (never more than the home position holds) moves, and
    never into a short, which that holding could not have been part of."""
    if position.size < 0:
        return
    take = min(selling - position.size, home.starting, max(home.size, Decimal(0)))
    if take <= 0:
        return
    home.size -= take
    home.starting -= take
    if home.size == 0:
        home.average_cost = Decimal(0)
    position.average_cost = (position.average_cost * position.size + cost * take) / (position.size + take)
    position.size += take
    position.starting += take
