"""The market an account trades in, stored with the account, so its marks never depend on who reads it.

An account's positions are marked to the pair's reference price. Which market, and at what time,
used to come from the reading command's own `--seed` and `--time-scale`: one account read three
ways showed USDC unrealized +6,199, +1,301 and −3,324. Now `account reset` stores the market the
account trades in (the engine's market seed) and its time base:

- `wall` (started at a time scale above 0): market time is the wall clock, seconds since
  2025-01-01 (engine/trading/market.py), the market every process at time scale 1 sees; marks are read
  now.
- `orders` (started at time scale 0): market time moves 2 s per order, so the mark is the market
  at the next order's moment (n + 1) × 2 s, a pure function of the database.

It also stores each starting token's mark at reset, its cost basis: tokens the account starts
with are a position bought at that price, so selling them closes a long instead of opening a
short. A token's position lives in its home pair, the first listed pair with it as BASE (SOL in
SOL-USDC); every other pair with it as BASE (SOL-USDT, SOL-RAY) has its mark at reset stored too
(size 0), so starting tokens sold there are drawn from the home holding at that pair's own cost
basis rather than opening a short. A token that is no listed pair's BASE (USDT) has no home
pair: its starting amount is kept as a holding under the token's name, drawn the same way when it
is sold on a routable pair with it as BASE (USDT-BONK).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from engine.trading.market import EPOCH, Market
from engine.trading.pairs import PairCatalog, PairSpec

WALL = "wall"
ORDERS = "orders"
SEED_KEY = "market_seed"
TIME_BASE_KEY = "market_time_base"
START_MARKS_KEY = "start_marks"


@dataclass(frozen=True, slots=True)
class AccountMarket:
    seed: int
    time_base: str
    # Home pair → (starting size in BASE, its mark at reset): the starting holdings' cost basis.
    start_marks: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)

    def market_time(self, now: datetime, next_seq: int) -> float:
        """The account's market time now: the wall clock's, or the next order's at time scale 0."""
        if self.time_base == ORDERS:
            return Market.order_time(next_seq)
        return (now - EPOCH).total_seconds()

    def to_meta(self) -> dict[str, str]:
        marks = {pair: [str(size), str(mark)] for pair, (size, mark) in self.start_marks.items()}
        return {SEED_KEY: str(self.seed), TIME_BASE_KEY: self.time_base, START_MARKS_KEY: json.dumps(marks)}

    @classmethod
    def from_meta(cls, meta: dict[str, str]) -> AccountMarket:
        """Read back; an account started before 0.3 (migration 0008) trades in market 0 on the wall clock."""
        raw = json.loads(meta.get(START_MARKS_KEY) or "{}")
        marks = {pair: (Decimal(size), Decimal(mark)) for pair, (size, mark) in raw.items()}
        return cls(int(meta.get(SEED_KEY, "0")), meta.get(TIME_BASE_KEY, WALL), marks)


def home_pair(token: str, catalog: PairCatalog) -> PairSpec | None:
    """The first listed pair with `token` as BASE: where a starting balance of it is a position."""
    return next((spec for spec in catalog if spec.base == token), None)


def reference_mark(market: Market, spec: PairSpec, at: float) -> Decimal:
    """The pair's reference price at market time `at`, to the pair's price places.

    Listed or routable alike: a pair's reference is its BASE's price over its QUOTE's
    (engine/trading/market.py), so SOL-RAY's mark is the price its route trades around.
    """
    return Decimal(repr(market.reference(spec, at))).quantize(Decimal(1).scaleb(-spec.price_decimals))


def start_marks(
    balances: dict[str, Decimal], catalog: PairCatalog, market: Market, at: float
) -> dict[str, tuple[Decimal, Decimal]]:
    """Each starting token's home pair, with its size and its mark at reset (zero balances have none),
    then every other pair, listed or routable, with that token as BASE, with size 0 and its mark at
    reset: the cost basis of starting tokens sold there (engine/account/view.py draws them).

    A token that is no listed pair's BASE (USDT) has no home pair: its starting amount is kept under
    the token's own name (size, mark 0), a holding that is no position, and the routable pairs with
    it as BASE (USDT-BONK) carry their marks at reset, so selling it there closes a long too."""
    marks: dict[str, tuple[Decimal, Decimal]] = {}
    others: dict[str, tuple[Decimal, Decimal]] = {}
    for token, amount in balances.items():
        if amount <= 0 or token not in catalog.tokens:
            continue
        home = home_pair(token, catalog)
        if home is None:
            marks[token] = (amount, Decimal(0))
        else:
            marks[home.pair] = (amount, reference_mark(market, home, at))
        for name in [*catalog.names, *catalog.routable_names()]:
            spec = catalog[name]
            if spec.base == token and (home is None or name != home.pair):
                others[name] = (Decimal(0), reference_mark(market, spec, at))
    return {**marks, **others}
