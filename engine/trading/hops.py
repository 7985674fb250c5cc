"""Two-hop routes: an order between two tokens carried through one intermediate listed token.

Each hop is a swap on one venue's constant-product pool of a listed pair (engine/trading/router.py's
model: depth L in BASE, pool price P, fee f). Buying b BASE costs b·P(1+f)·L/(L−b) QUOTE and
selling b BASE gets b·P(1−f)·L/(L+b), so each hop can be solved exactly for either side:

    pay q QUOTE  → get b = q·L / (P(1+f)·L + q) BASE
    want q QUOTE → sell b = q·L / (P(1−f)·L − q) BASE

A SELL of A BASE on a pair B-Q goes B→X→Q, each hop taking exactly what the previous gave
(exact in); a BUY of A BASE goes Q→X→B, each hop asked for exactly what the next needs (exact
out). So the intermediate token X nets to zero: what one hop gives is, to the last place, what
the other takes. Amounts are Decimal with `TOKEN_PLACES` places, rounded against the trader
(what comes out down, what goes in up), so a route never promises more than its pools give.

For a fixed intermediate, the better venue of each hop, taken in turn, is the best route: the
second hop's result only grows with what the first gives (and the first's need only shrinks with
what the second needs). Hops are not split across venues.

A listed pair (SOL-USDT) is also weighed against two hops through each intermediate that joins its
tokens (SOL→USDC→USDT), as Jupiter does: the hops win when they give more (SELL) or cost less (BUY)
than the best direct route, one venue or split, by at least `TWO_HOP_MIN_BPS` (`over_direct`). The
market keeps every pool within 0.125 % of one consistent price per token (engine/trading/market.py),
so two hops can lean up to about 10 bps better than the direct pools at the smallest size; past
that margin only what size does — a shallow direct pool's impact against deeper hop pools — pays
for the second fee, and ordinary orders stay on their pair.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from engine.model.domain import Direction, RouteHop, Venue
from engine.trading.pairs import PairCatalog, PairSpec
from engine.trading.quotes import HopQuote, Quote, RoutingDecision

TOKEN_PLACES = Decimal("1e-12")
TWO_HOP_MIN_BPS = Decimal(10)
"""How much more two hops must give than a listed pair's direct route to be chosen (see above)."""
_SIX = Decimal("0.000001")
_VENUES = tuple(Venue)
PoolPrice = Callable[[PairSpec, Venue, float], Decimal]


def swap(
    spec: PairSpec, venue: Venue, fee: Decimal, pool: Decimal, token_in: str, amount: Decimal, exact_in: bool
) -> HopQuote | None:
    """One hop on `venue`'s pool of `spec`; `amount` is what goes in (exact_in) or what must come out.

    None when the pool cannot do it (a BUY at or past its depth)."""
    depth = Decimal(repr(spec.liquidity[venue]))
    buying_base = token_in == spec.quote
    token_out = spec.base if buying_base else spec.quote
    if buying_base:
        rate = pool * (1 + fee)
        if exact_in:
            paid, base = amount, (amount * depth / (rate * depth + amount)).quantize(TOKEN_PLACES, ROUND_DOWN)
        else:
            if amount >= depth:
                return None
            base, paid = amount, (amount * rate * depth / (depth - amount)).quantize(TOKEN_PLACES, ROUND_CEILING)
        if base <= 0 or base >= depth:
            return None
        amount_in, amount_out, impact = paid, base, base / (depth - base)
        quote_amount, fee_paid = paid, paid * fee / (1 + fee)
    else:
        rate = pool * (1 - fee)
        if exact_in:
            base, got = amount, (amount * rate * depth / (depth + amount)).quantize(TOKEN_PLACES, ROUND_DOWN)
        else:
            room = rate * depth - amount
            if room <= 0:
                return None
            got, base = amount, (amount * depth / room).quantize(TOKEN_PLACES, ROUND_CEILING)
        if base <= 0 or got <= 0:
            return None
        amount_in, amount_out, impact = base, got, base / (depth + base)
        quote_amount, fee_paid = got, got * fee / (1 - fee)
    places = Decimal(1).scaleb(-spec.price_decimals)
    return HopQuote(
        pair=spec.pair,
        venue=venue,
        token_in=token_in,
        token_out=token_out,
        amount_in=amount_in,
        amount_out=amount_out,
        pool_price=pool.quantize(places, ROUND_HALF_EVEN),
        fee_rate=fee,
        price_impact=impact.quantize(_SIX, ROUND_HALF_EVEN),
        price=(quote_amount / (amount_out if buying_base else amount_in)).quantize(places, ROUND_HALF_EVEN),
        fee=fee_paid.quantize(TOKEN_PLACES, ROUND_HALF_EVEN),
    )


class TwoHopQuoter:
    """Quotes an order on `spec` through each intermediate: best venues, and each single-venue route."""

    def __init__(self, catalog: PairCatalog, fees: dict[Venue, Decimal], pool_price: PoolPrice) -> None:
        self.catalog = catalog
        self.fees = fees
        self.pool_price = pool_price

    def hop(self, first: str, second: str, venue: Venue, at: float, amount: Decimal, exact_in: bool) -> HopQuote | None:
        """`first`→`second` on `venue`: `amount` of `first` in (exact_in), or of `second` out."""
        spec = self.catalog.hop_pair(first, second)
        assert spec is not None
        pool = self.pool_price(spec, venue, at)
        return swap(spec, venue, self.fees[venue], pool, first, amount, exact_in)

    def chain(
        self, spec: PairSpec, via: str, amount: Decimal, direction: Direction, at: float, only: Venue | None = None
    ) -> tuple[HopQuote, HopQuote] | None:
        """The route through `via`, each hop on its better venue (or both on `only`)."""
        selling = direction is Direction.SELL
        # SELL: B→X→Q, exact in, keep the venue that gives most; BUY: Q→X→B, exact out, the one that asks least.
        path = (spec.base, via, spec.quote) if selling else (spec.quote, via, spec.base)
        order = ((0, 1), (1, 2)) if selling else ((1, 2), (0, 1))
        carried = amount
        found: dict[int, HopQuote] = {}
        for start, end in order:
            options = _VENUES if only is None else (only,)
            quotes = [self.hop(path[start], path[end], venue, at, carried, selling) for venue in options]
            usable = [quote for quote in quotes if quote is not None]
            if not usable:
                return None
            best = (
                max(usable, key=lambda quote: quote.amount_out)
                if selling
                else min(usable, key=lambda quote: quote.amount_in)
            )
            found[start] = best
            carried = best.amount_out if selling else best.amount_in
        return found[0], found[1]

    def quote(
        self,
        spec: PairSpec,
        via: str,
        amount: Decimal,
        direction: Direction,
        at: float,
        tolerance: Decimal,
        only: Venue | None = None,
    ) -> Quote | None:
        hops = self.chain(spec, via, amount, direction, at, only)
        return None if hops is None else as_quote(spec, hops, amount, direction, at, tolerance)

    def could_beat(self, spec: PairSpec, via: str, direct: Quote, at: float) -> bool:
        """Whether the route through `via` could beat `direct` by `TWO_HOP_MIN_BPS` at all: its price with
        no impact (each hop at its better pool and fee) is a bound impact only worsens, and it costs a
        few float operations where the quote costs a dozen Decimal swaps."""
        selling = direct.direction is Direction.SELL
        path = (spec.base, via, spec.quote) if selling else (spec.quote, via, spec.base)
        rate = 1.0  # what one unit of the path's first token becomes, at best
        for first, second in ((path[0], path[1]), (path[1], path[2])):
            hop = self.catalog.hop_pair(first, second)
            assert hop is not None
            rates = []
            for venue in _VENUES:
                pool, fee = float(self.pool_price(hop, venue, at)), float(self.fees[venue])
                rates.append(pool * (1 - fee) if first == hop.base else 1 / (pool * (1 + fee)))
            rate *= max(rates)
        margin = float(TWO_HOP_MIN_BPS) / 10000 - 1e-9
        price = float(direct.effective_price)
        return rate >= price * (1 + margin) if selling else 1 / rate <= price * (1 - margin)

    def best(
        self, spec: PairSpec, vias: list[str], amount: Decimal, direction: Direction, at: float, tolerance: Decimal
    ) -> Quote | None:
        """The best route through any of `vias`, each hop on its better venue; None if none carries it.

        Choosing the best of several intermediates is safe: the market's pools are consistent across
        pairs to within the fees, so no choice of routes makes a free round trip."""
        found = (self.quote(spec, via, amount, direction, at, tolerance) for via in vias)
        usable = [quote for quote in found if quote is not None]
        if not usable:
            return None
        if direction is Direction.BUY:
            return min(usable, key=lambda quote: quote.effective_price)
        return max(usable, key=lambda quote: quote.effective_price)

    def candidates(
        self, spec: PairSpec, amount: Decimal, direction: Direction, at: float, tolerance: Decimal
    ) -> tuple[Quote, Quote, Quote] | None:
        """The route through the first intermediate that carries `amount` (each hop on its better
        venue), with the route that keeps Raydium on both hops and the one that keeps Meteora (what
        the choice is measured against).

        One intermediate per amount, the first whose limits carry it (`Via`): a routable pair's limits
        are its intermediates'. Choosing the best of several would be safe since pairs' prices are
        consistent (see `best`, which a listed pair's two-hop choice uses), but is not done here.
        """
        via = next((via.token for via in spec.via if via.min_amount <= amount <= via.max_amount), None)
        if via is None:
            return None
        mixed = self.quote(spec, via, amount, direction, at, tolerance)
        raydium, meteora = (self.quote(spec, via, amount, direction, at, tolerance, venue) for venue in _VENUES)
        if mixed is None or raydium is None or meteora is None:
            return None
        return mixed, raydium, meteora


def as_quote(
    spec: PairSpec,
    hops: tuple[HopQuote, HopQuote],
    amount: Decimal,
    direction: Direction,
    at: float,
    tolerance: Decimal,
) -> Quote:
    """The two hops as one quote in the order's pair: what the whole route pays or gets per BASE."""
    places = Decimal(1).scaleb(-spec.price_decimals)
    first, last = hops
    if direction is Direction.SELL:
        total = last.amount_out
        factor = 1 - tolerance
    else:
        total = first.amount_in
        factor = 1 + tolerance
    effective = (total / amount).quantize(places, ROUND_HALF_EVEN)
    # Before fees and impact: each hop's pool price, oriented the way the tokens flow.
    rate = Decimal(1)
    keep = Decimal(1)
    impact = Decimal(1)
    for hop in hops:
        pool = hop.pool_price if hop.token_in == _base(hop.pair) else 1 / hop.pool_price
        rate *= pool
        keep *= 1 - hop.fee_rate
        impact *= 1 - hop.price_impact
    pool_price = rate if direction is Direction.SELL else 1 / rate
    return Quote(
        venue=first.venue,
        pool_price=pool_price.quantize(places, ROUND_HALF_EVEN),
        fee_rate=(1 - keep).quantize(_SIX, ROUND_HALF_EVEN),
        price_impact=(1 - impact).quantize(_SIX, ROUND_HALF_EVEN),
        effective_price=effective,
        amount=amount,
        direction=direction,
        limit_total=(amount * effective * factor).quantize(places, ROUND_HALF_EVEN),
        market_time=at,
        hops=hops,
    )


def _base(pair: str) -> str:
    return pair.split("-")[0]


def over_direct(
    quoter: TwoHopQuoter, spec: PairSpec, direct: RoutingDecision, at: float, tolerance: Decimal
) -> RoutingDecision:
    """`direct` (a listed pair's own venues), or two hops through an intermediate when they give at least
    `TWO_HOP_MIN_BPS` more; the decision then keeps the direct route it beat, for the log's why."""
    best = direct.chosen
    vias = [
        via for via in quoter.catalog.intermediates(spec.base, spec.quote) if quoter.could_beat(spec, via, best, at)
    ]
    if not vias:
        return direct
    hopped = quoter.best(spec, vias, best.amount, best.direction, at, tolerance)
    if hopped is None:
        return direct
    gain = hopped.effective_price - best.effective_price
    if best.direction is Direction.BUY:
        gain = -gain
    margin = gain / best.effective_price * 10000
    if margin < TWO_HOP_MIN_BPS:
        return direct
    return RoutingDecision(direct.quotes, hopped, margin.quantize(Decimal("0.1"), ROUND_HALF_EVEN), direct=best)


def route_hop(hop: HopQuote) -> RouteHop:
    """A quoted hop as the order's stored route keeps it."""
    return RouteHop(
        hop.pair,
        hop.venue,
        hop.token_in,
        hop.token_out,
        hop.amount_in,
        hop.amount_out,
        hop.price,
        hop.fee,
        hop.price_impact,
    )


def landed_hops(
    quoter: TwoHopQuoter, direction: Direction, amount: Decimal, hops: tuple[RouteHop, ...], at: float
) -> tuple[RouteHop, ...]:
    """The same hops on the same venues, on the pools as they are when the swap lands.

    A SELL sends exactly `amount` into the first hop and each hop takes all the previous one
    gave; a BUY asks the last hop for exactly `amount` and each hop for exactly what the next
    takes: the intermediate token nets to zero whatever the pools did meanwhile. Raises
    LookupError naming the pool that could not carry its hop."""
    selling = direction is Direction.SELL
    landed: dict[int, HopQuote] = {}
    carried = amount
    for index in range(len(hops)) if selling else reversed(range(len(hops))):
        hop = hops[index]
        found = quoter.hop(hop.token_in, hop.token_out, hop.venue, at, carried, selling)
        if found is None:
            raise LookupError(f"{hop.venue}'s {hop.pair} pool could not carry the hop when it landed")
        landed[index] = found
        carried = found.amount_out if selling else found.amount_in
    return tuple(replace(route_hop(landed[index]), executed=True) for index in range(len(hops)))
