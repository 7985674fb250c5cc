"""The tradable pairs, read from resources/pairs.json: limits for validation, markets for the router.

Besides the listed pairs, any two listed tokens that no listed pair trades (SOL and RAY) form a
*routable* pair, named `BASE-QUOTE` like a listed one (`SOL-RAY`): the router carries it through
one intermediate listed token (SOL→USDC→RAY). Its limits, decimals and price places are derived
here from the hops' listed pairs at their listed prices (`_routable`), so validation, the OpenAPI
document and the account read it like any pair; it is never in the desk's list (`names`).

Installed, resources/ is the package `dexdesk_resources` (see setup.py), so the file is read with
importlib.resources: the same call finds it in a checkout, an editable install and a wheel.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from engine.model.domain import Venue

RESOURCES_PACKAGE = "dexdesk_resources"
# A routable pair's limits stay this far inside every hop's own limits and shallower pool at the
# listed prices, so a price that moves up to 25 % still leaves each hop inside them.
ROUTE_MARGIN = Decimal("1.25")
# Significant digits of a routable pair's price (SOL-RAY ~69.71234, BONK-BTC ~2.301234e-10).
ROUTE_PRICE_DIGITS = 7
# Places of a token that is the BASE of no listed pair (USDT): cents, as stablecoins are quoted.
DEFAULT_TOKEN_PLACES = 2


@dataclass(frozen=True, slots=True)
class Via:
    """One intermediate token of a routable pair, and the amounts (in the pair's BASE) it carries."""

    token: str
    min_amount: Decimal
    max_amount: Decimal
    # The listed pairs of base–token and token–quote, in that order (each in its own orientation).
    hops: tuple[PairSpec, PairSpec]


@dataclass(frozen=True, slots=True)
class PairSpec:
    pair: str
    base: str
    quote: str
    price: Decimal
    decimals: int
    price_decimals: int
    min_amount: Decimal
    max_amount: Decimal
    volatility: float
    liquidity: dict[Venue, float]
    # Empty for a listed pair; for a routable one, the intermediate tokens the router may go through.
    via: tuple[Via, ...] = field(default=())

    @property
    def involves_sol(self) -> bool:
        return "SOL" in (self.base, self.quote)

    @property
    def listed(self) -> bool:
        return not self.via


class PairCatalog:
    """Pairs by upper-case name, in the file's order (the order the desk lists them)."""

    def __init__(self, specs: list[PairSpec]) -> None:
        self._specs = {spec.pair: spec for spec in specs}
        self._values = _token_values(specs)
        self._routable: dict[str, PairSpec | None] = {}

    def __iter__(self) -> Iterator[PairSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def get(self, pair: str) -> PairSpec | None:
        """A listed pair, or a routable one (two listed tokens joined by one intermediate); None otherwise."""
        found = self._specs.get(pair)
        return found if found is not None else self.routable(pair)

    def __getitem__(self, pair: str) -> PairSpec:
        found = self.get(pair)
        if found is None:
            raise KeyError(pair)
        return found

    @property
    def names(self) -> list[str]:
        return list(self._specs)

    @property
    def tokens(self) -> list[str]:
        """Every listed token, in the order the pairs first name them."""
        seen: dict[str, None] = {}
        for spec in self._specs.values():
            seen.setdefault(spec.base)
            seen.setdefault(spec.quote)
        return list(seen)

    def hop_pair(self, token_in: str, token_out: str) -> PairSpec | None:
        """The listed pair that trades these two tokens, in either orientation."""
        return self._specs.get(f"{token_in}-{token_out}") or self._specs.get(f"{token_out}-{token_in}")

    def intermediates(self, base: str, quote: str) -> list[str]:
        """The listed tokens X with listed pairs for base–X and X–quote (either orientation each)."""
        return [
            token
            for token in self.tokens
            if token not in (base, quote)
            and self.hop_pair(base, token) is not None
            and self.hop_pair(token, quote) is not None
        ]

    def routable_names(self) -> list[str]:
        """Every routable (not listed) pair name, in token order."""
        tokens = self.tokens
        return [f"{b}-{q}" for b in tokens for q in tokens if b != q and self.routable(f"{b}-{q}") is not None]

    def routable(self, pair: str) -> PairSpec | None:
        if pair in self._routable:
            return self._routable[pair]
        built = _routable(self, pair)
        self._routable[pair] = built
        return built

    def value(self, token: str) -> Decimal:
        """A token's worth in the first pair's QUOTE at the listed prices (for limits, never for trading)."""
        return self._values[token]

    @classmethod
    def from_file(cls, path: Traversable) -> PairCatalog:
        """A catalog from a pairs.json: a Path, or a file inside an installed package."""
        raw = json.loads(path.read_text(encoding="utf-8"))
        specs = []
        for item in raw["pairs"]:
            base, quote = item["pair"].upper().split("-")
            specs.append(
                PairSpec(
                    pair=f"{base}-{quote}",
                    base=base,
                    quote=quote,
                    price=Decimal(item["price"]),
                    decimals=int(item["decimals"]),
                    price_decimals=int(item["priceDecimals"]),
                    min_amount=Decimal(item["minAmount"]),
                    max_amount=Decimal(item["maxAmount"]),
                    volatility=float(item["volatility"]),
                    liquidity={Venue(name): float(depth) for name, depth in item["liquidity"].items()},
                )
            )
        return cls(specs)


def _token_values(specs: list[PairSpec]) -> dict[str, Decimal]:
    """Each token's worth in the first pair's QUOTE token, through the listed prices."""
    if not specs:
        return {}
    values = {specs[0].quote: Decimal(1)}
    changed = True
    while changed:
        changed = False
        for spec in specs:
            if spec.quote in values and spec.base not in values:
                values[spec.base] = spec.price * values[spec.quote]
                changed = True
            elif spec.base in values and spec.quote not in values:
                values[spec.quote] = values[spec.base] / spec.price
                changed = True
    return values


def _token_places(catalog: PairCatalog, token: str) -> int:
    places = [spec.decimals for spec in catalog if spec.base == token]
    return max(places) if places else DEFAULT_TOKEN_PLACES


def _routable(catalog: PairCatalog, pair: str) -> PairSpec | None:
    """The routable pair `pair` names, or None (unknown tokens, a listed pair either way, no intermediate).

    Its BASE amounts are bounded so that on every hop of some intermediate the amount that hop's
    pair trades stays within that pair's limits and below half its shallower pool, at the listed
    prices with `ROUTE_MARGIN` to spare (the other half absorbs the first hop's impact on what the
    second moves); the bounds are a power of ten and a whole number of one
    significant digit, as the OpenAPI document writes them.
    """
    parts = pair.split("-")
    if len(parts) != 2:
        return None
    base, quote = parts
    if base == quote or catalog.hop_pair(base, quote) is not None:
        return None
    if base not in catalog.tokens or quote not in catalog.tokens:
        return None
    places = _token_places(catalog, base)
    step = Decimal(1).scaleb(-places)
    worth = catalog.value(base)
    vias = []
    for token in catalog.intermediates(base, quote):
        low, high = step, Decimal("Infinity")
        hops = []
        for first, second in ((base, token), (token, quote)):
            hop = catalog.hop_pair(first, second)
            assert hop is not None
            hops.append(hop)
            per_base = worth / catalog.value(hop.base)  # hop BASE units per unit of our BASE
            # Half the shallower pool: a hop's impact then at most doubles what the next hop moves.
            ceiling = min(hop.max_amount, Decimal(repr(min(hop.liquidity.values()))) / 2)
            low = max(low, hop.min_amount / per_base * ROUTE_MARGIN)
            high = min(high, ceiling / per_base / ROUTE_MARGIN)
        low = Decimal(1).scaleb(int(low.log10().to_integral_value(ROUND_CEILING)))
        low = Decimal(int(low)) if low >= 1 else low
        exponent = int(high.log10().to_integral_value(ROUND_FLOOR))
        high = Decimal(int(high.scaleb(-exponent).to_integral_value(ROUND_FLOOR))).scaleb(exponent)
        if high >= 1 and low <= high:
            vias.append(Via(token, low, Decimal(int(high)), (hops[0], hops[1])))
    if not vias:
        return None
    price = worth / catalog.value(quote)
    digits = int(price.log10().to_integral_value(ROUND_FLOOR)) + 1
    return PairSpec(
        pair=pair,
        base=base,
        quote=quote,
        price=price.quantize(Decimal(1).scaleb(min(0, digits - ROUTE_PRICE_DIGITS))),
        decimals=places,
        price_decimals=max(0, ROUTE_PRICE_DIGITS - digits),
        min_amount=min(via.min_amount for via in vias),
        max_amount=max(via.max_amount for via in vias),
        volatility=0.0,
        liquidity={},
        via=tuple(vias),
    )


@cache
def default_catalog() -> PairCatalog:
    return PairCatalog.from_file(files(RESOURCES_PACKAGE) / "pairs.json")
