"""The mock DEX router: Raydium and Meteora quotes, venue choice, transaction build and swap.

It is part of the product, not a test double. Prices come from the simulated market
(engine/trading/market.py: a reference price walking in simulated time, each venue's pool tracking it
with its own slowly moving spread), fees, and price impact from each pool's depth in
resources/pairs.json. A quote is the market at one moment; an execution is the same venue's
price when the swap lands, so a quote and its execution differ by how far the market moved in
between. Every other random draw is keyed by (seed, order sequence, attempt, purpose), so a seed
replays the same quotes, routes and outcomes whatever order the concurrent tasks run in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal
from functools import partial
from typing import Protocol

from engine.model.clock import Clock
from engine.model.domain import Direction, Order, OrderType, Route, RouteHop, RouteLeg, Venue
from engine.trading.base58 import b58encode
from engine.trading.draws import Draws
from engine.trading.hops import TwoHopQuoter, landed_hops, over_direct, route_hop
from engine.trading.market import Market
from engine.trading.pairs import PairCatalog, PairSpec
from engine.trading.quotes import Quote, RoutingDecision
from engine.trading.split import split_quote

FEES: dict[Venue, Decimal] = {Venue.RAYDIUM: Decimal("0.003"), Venue.METEORA: Decimal("0.002")}
NETWORK_FAILURES = (
    "transaction expired: blockhash not found",
    "RPC node timed out after 30 s",
    "transaction dropped by the leader",
)
# A split is chosen only when it beats the better single venue by at least this much: two swaps
# cost a transaction more compute than one, and a split that saves a fraction of the price's last
# place is not worth a second leg to a trader.
SPLIT_MIN_BPS = Decimal("0.5")
# Market time a retried attempt routes after the previous one, at time scale 0 (a back-off and a swap).
_RETRY_MARKET_S = 6.0
# Indicative decisions kept for the first attempts still to route (time scale 0): a burst of this
# many orders submitted at once routes on them, a larger one recomputes the oldest.
_INDICATED_MAX = 16384
# Pool prices kept (by pair, venue, market time): far more than one burst of orders reads at once.
_POOLS_MAX = 4096

__all__ = ["FEES", "Execution", "LimitMissed", "MockDexRouter", "Quote", "Router", "RoutingDecision", "SwapFailed"]

_DecisionKey = tuple[str, Decimal, Direction, float, Decimal]
_VENUES = tuple(Venue)  # iterating the enum itself costs more than the quote's arithmetic around it


@dataclass(frozen=True, slots=True)
class RouterSettings:
    seed: int = 0
    # The market's own seed; None follows `seed`. Unseeded sessions share market 0, so every
    # process on a database (the desk, `dexdesk account`, the API) sees the same prices.
    market_seed: int | None = None
    slippage_tolerance: Decimal = Decimal("0.01")
    failure_rate: float = 0.05
    quote_latency_s: float = 0.2
    build_latency_s: float = 0.5
    execution_s: tuple[float, float] = (2.0, 3.0)


@dataclass(frozen=True, slots=True)
class BuiltSwap:
    route: Route
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Execution:
    price: Decimal
    tx_hash: str
    legs: tuple[RouteLeg, ...] = ()  # a split's legs with their executed prices
    hops: tuple[RouteHop, ...] = ()  # a two-hop route's hops with their executed amounts


def worst_price(effective_price: Decimal, direction: Direction, slippage: Decimal, places: int) -> Decimal:
    """The worst execution price a quote accepts: BUY pays at most, SELL receives at least, this."""
    factor = 1 + slippage if direction is Direction.BUY else 1 - slippage
    return (effective_price * factor).quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN)


class SwapFailed(Exception):
    """An attempt failed the way a real swap fails; the retry policy decides what comes next."""


class LimitMissed(SwapFailed):
    """A triggered limit order's swap would have landed past its limit: it did not execute.

    Not a failure of the order: like a limit order on any venue it goes back to waiting for its
    price (until its expiry), so the pipeline catches this before the retry policy sees it.
    """


class Router(Protocol):
    """What the pipeline and the engine need from a router: quote, build, send, and an indicative price.

    `MockDexRouter` is the one dexdesk ships; a router for a real chain would keep these promises:
    `prepare` fixes the signature before anything is sent, and `execute` of the same route lands once
    at most however often it is called.
    """

    settings: RouterSettings

    async def route(self, order: Order, attempt: int) -> RoutingDecision: ...

    def prepare(self, order: Order, decision: RoutingDecision, attempt: int) -> BuiltSwap: ...

    async def build_delay(self) -> None: ...

    async def execute(self, order: Order, route: Route, attempt: int) -> Execution: ...

    market: Market

    def quote_at(
        self, pair: str, amount: Decimal, direction: Direction, at: float, slippage: Decimal | None = None
    ) -> RoutingDecision:
        """Both venues' quotes and the choice at market time `at` (engine/trading/market.py)."""

    def indicative(
        self, pair: str, amount: Decimal, direction: Direction, next_seq: int, slippage: Decimal | None = None
    ) -> RoutingDecision:
        """What an order sent now (number `next_seq`) would get."""


class MockDexRouter:
    def __init__(self, catalog: PairCatalog, settings: RouterSettings, clock: Clock) -> None:
        self.catalog = catalog
        self.settings = settings
        self.clock = clock
        self.market = Market(settings.seed if settings.market_seed is None else settings.market_seed, clock, catalog)
        # At time scale 0 an order's first attempt routes at the very market moment its indicative
        # quote was made for (order n at n × STEP_S), so that decision is kept until it routes:
        # quoting is the costliest step of an attempt, and it is a pure function of these inputs.
        self._indicated: dict[_DecisionKey, RoutingDecision] = {}
        # Pool prices of recent moments: one order's quotes (both venues, a split's candidate
        # sizes, two hops' legs, its landing) read each pool at the same moment several times.
        self._pools: dict[tuple[str, Venue, float], Decimal] = {}
        self.two_hop = TwoHopQuoter(catalog, FEES, self._pool)

    def _pool(self, spec: PairSpec, venue: Venue, at: float) -> Decimal:
        """The venue's pool price at `at` as a Decimal; a pure function of its inputs, so kept a while."""
        key = (spec.pair, venue, at)
        pool = self._pools.get(key)
        if pool is None:
            if len(self._pools) >= _POOLS_MAX:
                self._pools.clear()
            pool = self._pools[key] = Decimal(repr(self.market.pool_price(spec, venue, at)))
        return pool

    def _draws(self, order_seq: int, attempt: int, purpose: str, trigger: float | None = None) -> Draws:
        # A limit order that went back to waiting counts its attempts afresh when it triggers
        # again: the trigger's market time keeps that attempt's signature and draws its own.
        episode = "" if trigger is None else f":{trigger!r}"
        return Draws(self.settings.seed, f"{order_seq}:{attempt}{episode}:{purpose}")

    def quote_for(
        self,
        spec: PairSpec,
        amount: Decimal,
        direction: Direction,
        venue: Venue,
        at: float,
        slippage: Decimal | None = None,
    ) -> Quote:
        """A venue's quote at market time `at`, computed without waiting."""
        depth = spec.liquidity[venue]
        size = float(amount)
        # Constant-product pool: buying Δ from depth L costs L/(L-Δ) more; selling gets L/(L+Δ).
        impact = size / (depth - size) if direction is Direction.BUY else size / (depth + size)
        fee = FEES[venue]
        places = Decimal(1).scaleb(-spec.price_decimals)
        pool = self._pool(spec, venue, at)
        impact_dec = Decimal(repr(impact)).quantize(Decimal("0.000001"), ROUND_HALF_EVEN)
        tolerance = self.settings.slippage_tolerance if slippage is None else slippage
        if direction is Direction.BUY:
            effective = pool * (1 + impact_dec) * (1 + fee)
            limit_total = amount * effective * (1 + tolerance)
        else:
            effective = pool * (1 - impact_dec) * (1 - fee)
            limit_total = amount * effective * (1 - tolerance)
        return Quote(
            venue=venue,
            pool_price=pool.quantize(places, ROUND_HALF_EVEN),
            fee_rate=fee,
            price_impact=impact_dec,
            effective_price=effective.quantize(places, ROUND_HALF_EVEN),
            amount=amount,
            direction=direction,
            limit_total=limit_total.quantize(places, ROUND_HALF_EVEN),
            market_time=at,
        )

    def decide(self, quotes: tuple[Quote, Quote]) -> RoutingDecision:
        first, second = quotes
        buying = first.direction is Direction.BUY
        if first.effective_price == second.effective_price:
            chosen = min(quotes, key=lambda quote: quote.fee_rate)
        elif buying:
            chosen = first if first.effective_price < second.effective_price else second
        else:
            chosen = first if first.effective_price > second.effective_price else second
        other = second if chosen is first else first
        worse = other.effective_price
        margin = abs(worse - chosen.effective_price) / worse * 10000 if worse else Decimal(0)
        return RoutingDecision(quotes, chosen, margin.quantize(Decimal("0.1"), ROUND_HALF_EVEN))

    def quote_at(
        self, pair: str, amount: Decimal, direction: Direction, at: float, slippage: Decimal | None = None
    ) -> RoutingDecision:
        """Both venues' quotes and the choice at market time `at`; a routable pair's two hops.

        A listed pair is traded on its own pools (one venue or split) unless two hops through an
        intermediate listed token give more by at least `TWO_HOP_MIN_BPS` (engine/trading/hops.py).
        """
        spec = self.catalog[pair]
        if not spec.listed:
            tolerance = self.settings.slippage_tolerance if slippage is None else slippage
            return self._two_hop_decision(spec, amount, direction, at, tolerance)
        direct = self._direct_decision(spec, amount, direction, at, slippage)
        tolerance = self.settings.slippage_tolerance if slippage is None else slippage
        return over_direct(self.two_hop, spec, direct, at, tolerance)

    def _two_hop_decision(
        self, spec: PairSpec, amount: Decimal, direction: Direction, at: float, tolerance: Decimal
    ) -> RoutingDecision:
        found = self.two_hop.candidates(spec, amount, direction, at, tolerance)
        if found is None:
            raise SwapFailed(f"no intermediate's pools can carry {amount} {spec.base} for {spec.pair} now")
        chosen, *singles = found
        buying = direction is Direction.BUY
        other = min(singles, key=lambda quote: quote.effective_price if buying else -quote.effective_price)
        worse = other.effective_price
        margin = abs(worse - chosen.effective_price) / worse * 10000 if worse else Decimal(0)
        return RoutingDecision((singles[0], singles[1]), chosen, margin.quantize(Decimal("0.1"), ROUND_HALF_EVEN))

    def _direct_decision(
        self, spec: PairSpec, amount: Decimal, direction: Direction, at: float, slippage: Decimal | None
    ) -> RoutingDecision:
        first, second = (self.quote_for(spec, amount, direction, venue, at, slippage) for venue in _VENUES)
        decision = self.decide((first, second))
        tolerance = self.settings.slippage_tolerance if slippage is None else slippage
        quote = partial(self.quote_for, slippage=slippage)
        split = split_quote(quote, spec, amount, direction, at, tolerance, (first, second))
        if split is None:
            return decision
        best = decision.chosen.effective_price
        margin = (best - split.effective_price if direction is Direction.BUY else split.effective_price - best) / best
        if margin * 10000 < SPLIT_MIN_BPS:
            return decision  # never chosen unless its net price beats the better single venue (by enough)
        margin = margin * 10000
        return RoutingDecision((first, second), split, margin.quantize(Decimal("0.1"), ROUND_HALF_EVEN))

    def indicative(
        self, pair: str, amount: Decimal, direction: Direction, next_seq: int, slippage: Decimal | None = None
    ) -> RoutingDecision:
        """What an order sent now (it would be number `next_seq`) would be routed to, and at what price."""
        at = self.market.now(next_seq)
        decision = self.quote_at(pair, amount, direction, at, slippage)
        if self.clock.time_scale <= 0:
            if len(self._indicated) >= _INDICATED_MAX:
                del self._indicated[next(iter(self._indicated))]  # the oldest
            self._indicated[self._decision_key(pair, amount, direction, at, slippage)] = decision
        return decision

    def _decision_key(
        self, pair: str, amount: Decimal, direction: Direction, at: float, slippage: Decimal | None
    ) -> _DecisionKey:
        return (pair, amount, direction, at, self.settings.slippage_tolerance if slippage is None else slippage)

    def _routing_time(self, order: Order, attempt: int) -> float:
        if self.clock.time_scale <= 0:
            start = self.market.order_time(order.seq)
            if order.trigger_time is not None:
                start = max(start, order.trigger_time)
            return start + (attempt - 1) * _RETRY_MARKET_S
        return self.market.now(order.seq)

    async def route(self, order: Order, attempt: int) -> RoutingDecision:
        """Ask both venues at once, as the seed's router does, and keep the better net price."""
        await self.clock.simulate(self.settings.quote_latency_s)
        at = self._routing_time(order, attempt)
        slippage = order.terms.slippage
        if self._indicated:
            key = self._decision_key(order.pair, order.amount, order.direction, at, slippage)
            indicated = self._indicated.pop(key, None)
            if indicated is not None:
                return indicated
        return self.quote_at(order.pair, order.amount, order.direction, at, slippage)

    def prepare(self, order: Order, decision: RoutingDecision, attempt: int) -> BuiltSwap:
        """Build and sign the swap: its signature is fixed here, before anything is sent."""
        spec = self.catalog[order.pair]
        notes: list[str] = []
        if spec.involves_sol:
            spends_sol = (order.direction is Direction.SELL) == (spec.base == "SOL")
            if spends_sol:
                notes.append("wrap SOL into a wSOL token account before the swap")
            else:
                notes.append("unwrap the received wSOL to native SOL after the swap")
        chosen = decision.chosen
        signature = self._signature(order.seq, attempt, order.trigger_time)
        legs = tuple(RouteLeg(leg.venue, leg.amount, leg.effective_price) for leg in chosen.legs)
        hops = tuple(route_hop(hop) for hop in chosen.hops)
        route = Route(chosen.venue, chosen.effective_price, signature, chosen.market_time, legs, hops)
        return BuiltSwap(route, tuple(notes))

    def _landed(self, spec: PairSpec, amount: Decimal, direction: Direction, venue: Venue, at: float) -> Decimal:
        return self.quote_for(spec, amount, direction, venue, at).effective_price

    async def build_delay(self) -> None:
        await self.clock.simulate(self.settings.build_latency_s)

    def _signature(self, order_seq: int, attempt: int, trigger: float | None = None) -> str:
        return b58encode(self._draws(order_seq, attempt, "signature", trigger).signature_bytes())

    def bound(self, order: Order, quoted: Decimal) -> tuple[Decimal, str]:
        """The worst price this attempt may execute at, and how to explain missing it."""
        terms = order.terms
        places = self.catalog[order.pair].price_decimals
        if terms.type is OrderType.LIMIT and terms.price_bound is not None:
            return terms.price_bound, f"limit {terms.price_bound}"
        tolerance = terms.slippage if terms.slippage is not None else self.settings.slippage_tolerance
        reference = terms.quoted_price if terms.quoted_price is not None else quoted
        bound = (
            terms.price_bound
            if terms.price_bound is not None
            else worst_price(reference, order.direction, tolerance, places)
        )
        return bound, f"tolerance {tolerance * 100:.2f}%: quoted {reference}"

    async def execute(self, order: Order, route: Route, attempt: int) -> Execution:
        """Send the signed swap and wait for it to land; fail like a network or a moving price would."""
        rng = self._draws(order.seq, attempt, "execute", order.trigger_time)
        duration = rng.uniform(*self.settings.execution_s)
        await self.clock.simulate(duration)
        if rng.random() < self.settings.failure_rate:
            raise SwapFailed(rng.choice(NETWORK_FAILURES))
        spec = self.catalog[order.pair]
        if self.clock.time_scale <= 0 or route.market_time is None:
            start = route.market_time if route.market_time is not None else self._routing_time(order, attempt)
            landed_at = start + self.settings.build_latency_s + duration
        else:
            landed_at = self.market.now(order.seq)
        executed_legs = tuple(
            replace(leg, executed_price=self._landed(spec, leg.amount, order.direction, leg.venue, landed_at))
            for leg in route.legs
        )
        executed_hops: tuple[RouteHop, ...] = ()
        if route.hops:
            try:
                executed_hops = landed_hops(self.two_hop, order.direction, order.amount, route.hops, landed_at)
            except LookupError as missing:
                raise SwapFailed(str(missing)) from None
            moved = executed_hops[-1].amount_out if order.direction is Direction.SELL else executed_hops[0].amount_in
            executed = (moved / order.amount).quantize(Decimal(1).scaleb(-spec.price_decimals), ROUND_HALF_EVEN)
        elif executed_legs:
            # One order, one price: the whole fill's average, each leg at its own pool when it lands.
            total = sum((leg.amount * (leg.executed_price or 0) for leg in executed_legs), Decimal(0))
            executed = (total / order.amount).quantize(Decimal(1).scaleb(-spec.price_decimals), ROUND_HALF_EVEN)
        else:
            executed = self._landed(spec, order.amount, order.direction, route.venue, landed_at)
        bound, explained = self.bound(order, route.quoted_price)
        missed = executed > bound if order.direction is Direction.BUY else executed < bound
        if missed:
            reference = order.terms.quoted_price or route.quoted_price
            worse_by = (executed - reference) / reference
            if order.direction is Direction.SELL:
                worse_by = -worse_by
            if order.terms.type is OrderType.LIMIT:
                raise LimitMissed(f"{explained} not met at landing: it would have executed at {executed}")
            tolerance = order.terms.slippage if order.terms.slippage is not None else self.settings.slippage_tolerance
            # As many places as it takes: "1.00% exceeds tolerance 1.00%" would hide the difference.
            raise SwapFailed(f"slippage {_percents(worse_by, tolerance)}: quoted {reference}, executed {executed}")
        return Execution(executed, route.signature, executed_legs, executed_hops)


def _percents(slippage: Decimal, tolerance: Decimal) -> str:
    """'slippage X% exceeds tolerance Y%' with as many places as it takes for X and Y to differ."""
    for places in range(2, 12):
        shown = f"{slippage * 100:.{places}f}", f"{tolerance * 100:.{places}f}"
        if shown[0] != shown[1]:
            break
    return f"{shown[0]}% exceeds tolerance {shown[1]}%"
