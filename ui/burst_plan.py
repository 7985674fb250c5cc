"""What a Burst draws: only the pairs, sides and sizes the paper account can cover.

Random orders over every pair stopped the desk's own account (USDC 10,000 / USDT 10,000 / SOL 10)
at the first chunk that needed a token it does not hold ("needs 12,791.25 WIF", issue 24). Here a
side of a pair is a candidate only when the account holds the token it spends; the burst's orders
go round the candidates in turn, so each token knows exactly how many orders will spend it, and
each order spends at most `SHARE` of that token's available balance divided by that count. A side
whose smallest order costs more than its share is left out, dearest first, and the others share
again: the whole burst is covered before the first order is sent, and the dialog says which sides.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from engine.model.domain import Direction
from engine.model.jsonfmt import format_decimal
from engine.model.validation import OrderRequest
from engine.trading.demo import random_requests
from engine.trading.pairs import PairCatalog, PairSpec

SHARE = Decimal("0.8")  # of the available balance: room for the price moving between plan and execution
PRICE_MARGIN = Decimal("1.02")  # on a BUY's quoted price, for price impact at sizes above the minimum


@dataclass(frozen=True, slots=True)
class Side:
    spec: PairSpec = field(compare=False)  # a spec holds a dict: the pair's name stands for it
    direction: Direction
    pair: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "pair", self.spec.pair)

    @property
    def spends(self) -> str:
        return self.spec.quote if self.direction is Direction.BUY else self.spec.base

    @property
    def label(self) -> str:
        return f"{self.direction.value.lower()} {self.spec.pair}"


@dataclass(frozen=True, slots=True)
class BurstPlan:
    """The sides a burst of `count` draws from, and how much of each token one order may spend.

    `unit_cost` maps a side to what one unit of its base amount spends (the price bound of a BUY,
    1 for a SELL). Without a paper account (`balances` None) every pair and side is drawn, as before.
    """

    count: int
    sides: tuple[Side, ...]
    left_out: tuple[Side, ...]
    budget: Mapping[str, Decimal]
    unit_cost: Mapping[Side, Decimal]
    catalog: PairCatalog
    limited: bool

    @property
    def possible(self) -> bool:
        return bool(self.sides) or not self.limited

    def describe(self) -> str:
        """The dialog's words: which pairs and sides the burst uses, and what it leaves out."""
        if not self.limited:
            return "Random pairs and sides (no paper account limits them)."
        if not self.sides:
            return (
                f"The account cannot cover {self.count:,} orders on any pair: fewer orders, "
                "or Account → Reset… for more."
            )
        used = _by_pair(self.sides)
        text = f"Drawn from what the account covers: {used}."
        if self.left_out:
            text += f"\nLeft out (the account cannot cover them at this count): {_by_pair(self.left_out)}."
        return text

    def requests(self, start: int, count: int, seed: int | None = None) -> list[OrderRequest]:
        """Orders `start` … `start + count - 1` of the burst, in a shuffled order, each within its share."""
        if not self.limited:
            return random_requests(self.catalog, count, seed=seed)
        if not self.sides:
            return []
        rng = random.Random(seed)
        made = [self._request(self.sides[index % len(self.sides)], rng) for index in range(start, start + count)]
        rng.shuffle(made)
        return made

    def _request(self, side: Side, rng: random.Random) -> OrderRequest:
        spec = side.spec
        step = Decimal(1).scaleb(-spec.decimals)
        affordable = self.budget[side.spends] / self.unit_cost[side]
        high = min(float(spec.max_amount) / 100, float(affordable))
        low = min(float(spec.min_amount) * 10, high)
        raw = Decimal(repr(math.exp(rng.uniform(math.log(low), math.log(high)))))
        amount = min(max(raw.quantize(step, ROUND_DOWN), spec.min_amount), affordable.quantize(step, ROUND_DOWN))
        return OrderRequest(spec.pair, Decimal(format_decimal(amount)), side.direction)


def plan_burst(
    catalog: PairCatalog,
    count: int,
    balances: Mapping[str, Decimal] | None,
    price: Callable[[str], Decimal],
    slippage: Decimal,
) -> BurstPlan:
    """The sides the account covers for `count` orders; `price(pair)` is what a BUY would pay now."""
    if balances is None:
        return BurstPlan(count, (), (), {}, {}, catalog, limited=False)
    every = [Side(spec, direction) for spec in catalog for direction in (Direction.BUY, Direction.SELL)]
    held = [side for side in every if balances.get(side.spends, Decimal(0)) > 0]
    unit_cost = {
        side: price(side.spec.pair) * (1 + slippage) * PRICE_MARGIN if side.direction is Direction.BUY else Decimal(1)
        for side in held
    }
    sides = held
    while sides:
        spenders: dict[str, int] = {}
        for index in range(min(count, len(sides))):
            token = sides[index].spends
            spenders[token] = spenders.get(token, 0) + _turns(count, len(sides), index)
        # A token no order spends (a burst smaller than the candidates) is judged as one order's worth.
        budget = {side.spends: balances[side.spends] * SHARE / spenders.get(side.spends, 1) for side in sides}
        over = {side: side.spec.min_amount * unit_cost[side] / budget[side.spends] for side in sides}
        worst = max(sides, key=lambda side: over[side])
        if over[worst] <= 1:
            left_out = tuple(side for side in every if side not in sides)
            return BurstPlan(count, tuple(sides), left_out, budget, unit_cost, catalog, limited=True)
        # Only the dearest side goes: the orders it had fall to the others, which may then fit.
        sides = [side for side in sides if side != worst]
    return BurstPlan(count, (), tuple(every), {}, unit_cost, catalog, limited=True)


def _turns(count: int, sides: int, index: int) -> int:
    """How many of `count` orders dealt round `sides` candidates fall to candidate `index`."""
    return count // sides + (1 if index < count % sides else 0)


def _by_pair(sides: tuple[Side, ...]) -> str:
    """ "SOL-USDC (buy, sell), JUP-SOL (buy)": the sides grouped under their pair, in the catalog's order."""
    grouped: dict[str, list[str]] = {}
    for side in sides:
        grouped.setdefault(side.spec.pair, []).append(side.direction.value.lower())
    return ", ".join(f"{pair} ({', '.join(directions)})" for pair, directions in grouped.items())
