"""The mock DEX router: Raydium and Meteora quotes, venue choice, transaction build and swap.

It is part of the product, not a test double. Prices come from a per-pair reference that moves
from order to order, venue spreads as in the task (Raydium ±2 %, Meteora −3 %/+2 %), fees, and
price impact from each pool's depth in resources/pairs.json. Every random draw is keyed by
(seed, order sequence, attempt, purpose), so a seed replays the same quotes, routes and outcomes
whatever order the concurrent tasks happen to run in.
"""

from __future__ import annotations

import asyncio
import math
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Protocol

from engine.base58 import b58encode
from engine.clock import Clock
from engine.domain import Direction, Order, Route, Venue
from engine.pairs import PairCatalog, PairSpec

FEES: dict[Venue, Decimal] = {Venue.RAYDIUM: Decimal("0.003"), Venue.METEORA: Decimal("0.002")}
VENUE_SPREAD: dict[Venue, tuple[float, float]] = {Venue.RAYDIUM: (0.98, 1.02), Venue.METEORA: (0.97, 1.02)}
NETWORK_FAILURES = (
    "transaction expired: blockhash not found",
    "RPC node timed out after 30 s",
    "transaction dropped by the leader",
)
# Periods (in orders) of the waves that move each pair's reference price.
_WAVE_PERIODS = (41.0, 233.0, 1597.0, 10007.0)


@dataclass(frozen=True, slots=True)
class RouterSettings:
    seed: int = 0
    slippage_tolerance: Decimal = Decimal("0.01")
    failure_rate: float = 0.05
    quote_latency_s: float = 0.2
    build_latency_s: float = 0.5
    execution_s: tuple[float, float] = (2.0, 3.0)


@dataclass(frozen=True, slots=True)
class Quote:
    """One venue's price for one order, as an aggregator shows it."""

    venue: Venue
    pool_price: Decimal
    fee_rate: Decimal
    price_impact: Decimal
    effective_price: Decimal
    amount: Decimal
    direction: Direction
    limit_total: Decimal

    def to_json(self) -> dict[str, Any]:
        side = "maxSpent" if self.direction is Direction.BUY else "minReceived"
        return {
            "venue": str(self.venue),
            "poolPrice": self.pool_price,
            "feeRate": self.fee_rate,
            "priceImpact": self.price_impact,
            "effectivePrice": self.effective_price,
            side: self.limit_total,
        }


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    quotes: tuple[Quote, Quote]
    chosen: Quote
    margin_bps: Decimal

    @property
    def other(self) -> Quote:
        return self.quotes[1] if self.chosen is self.quotes[0] else self.quotes[0]

    def reason(self) -> str:
        better = "lower" if self.chosen.direction is Direction.BUY else "higher"
        return (
            f"{self.chosen.venue} chosen: effective price {self.chosen.effective_price} is {better} than "
            f"{self.other.venue}'s {self.other.effective_price} by {self.margin_bps} bps after fees and impact"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "quotes": [quote.to_json() for quote in self.quotes],
            "chosen": str(self.chosen.venue),
            "marginBps": self.margin_bps,
        }


@dataclass(frozen=True, slots=True)
class BuiltSwap:
    route: Route
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Execution:
    price: Decimal
    tx_hash: str


class SwapFailed(Exception):
    """An attempt failed the way a real swap fails; the retry policy decides what comes next."""


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

    def indicative(self, pair: str, amount: Decimal, direction: Direction, step: int) -> RoutingDecision: ...


class MockDexRouter:
    def __init__(self, catalog: PairCatalog, settings: RouterSettings, clock: Clock) -> None:
        self.catalog = catalog
        self.settings = settings
        self.clock = clock
        self._waves: dict[str, list[tuple[float, float, float]]] = {}

    def _rng(self, order_seq: int, attempt: int, purpose: str) -> random.Random:
        return random.Random(f"{self.settings.seed}:{order_seq}:{attempt}:{purpose}")

    def reference_price(self, spec: PairSpec, step: int) -> float:
        """The pair's reference price at the `step`-th order: a few seeded waves around its base price."""
        waves = self._waves.get(spec.pair)
        if waves is None:
            rng = random.Random(f"{self.settings.seed}:{spec.pair}:waves")
            waves = [
                (period, 0.3 * spec.volatility * math.sqrt(period) * rng.uniform(0.5, 1.0), rng.uniform(0, 2 * math.pi))
                for period in _WAVE_PERIODS
            ]
            self._waves[spec.pair] = waves
        move = sum(amplitude * math.sin(2 * math.pi * step / period + phase) for period, amplitude, phase in waves)
        return float(spec.price) * math.exp(move)

    def quote_for(
        self, spec: PairSpec, amount: Decimal, direction: Direction, venue: Venue, step: int, attempt: int
    ) -> Quote:
        """A venue's quote, computed without waiting (the desk's indicative quote uses it directly)."""
        low, high = VENUE_SPREAD[venue]
        pool_price = self.reference_price(spec, step) * self._rng(step, attempt, f"spread:{venue}").uniform(low, high)
        depth = spec.liquidity[venue]
        size = float(amount)
        # Constant-product pool: buying Δ from depth L costs L/(L-Δ) more; selling gets L/(L+Δ).
        impact = size / (depth - size) if direction is Direction.BUY else size / (depth + size)
        fee = FEES[venue]
        places = Decimal(1).scaleb(-spec.price_decimals)
        pool = Decimal(repr(pool_price))
        impact_dec = Decimal(repr(impact)).quantize(Decimal("0.000001"), ROUND_HALF_EVEN)
        if direction is Direction.BUY:
            effective = pool * (1 + impact_dec) * (1 + fee)
            limit_total = amount * effective * (1 + self.settings.slippage_tolerance)
        else:
            effective = pool * (1 - impact_dec) * (1 - fee)
            limit_total = amount * effective * (1 - self.settings.slippage_tolerance)
        return Quote(
            venue=venue,
            pool_price=pool.quantize(places, ROUND_HALF_EVEN),
            fee_rate=fee,
            price_impact=impact_dec,
            effective_price=effective.quantize(places, ROUND_HALF_EVEN),
            amount=amount,
            direction=direction,
            limit_total=limit_total.quantize(places, ROUND_HALF_EVEN),
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

    def indicative(self, pair: str, amount: Decimal, direction: Direction, step: int) -> RoutingDecision:
        spec = self.catalog[pair]
        raydium, meteora = (self.quote_for(spec, amount, direction, venue, step, 0) for venue in Venue)
        return self.decide((raydium, meteora))

    async def _fetch_quote(self, order: Order, venue: Venue, attempt: int) -> Quote:
        await self.clock.simulate(self.settings.quote_latency_s)
        return self.quote_for(self.catalog[order.pair], order.amount, order.direction, venue, order.seq, attempt)

    async def route(self, order: Order, attempt: int) -> RoutingDecision:
        """Ask both venues at once, as the seed's router does, and keep the better net price."""
        quotes = await asyncio.gather(*(self._fetch_quote(order, venue, attempt) for venue in Venue))
        return self.decide((quotes[0], quotes[1]))

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
        route = Route(decision.chosen.venue, decision.chosen.effective_price, self._signature(order.seq, attempt))
        return BuiltSwap(route, tuple(notes))

    async def build_delay(self) -> None:
        await self.clock.simulate(self.settings.build_latency_s)

    def _signature(self, order_seq: int, attempt: int) -> str:
        rng = self._rng(order_seq, attempt, "signature")
        # A leading byte of 2 or more keeps the base58 text at 87–88 characters, as Solana's are.
        raw = bytes([rng.randint(2, 255)]) + rng.randbytes(63)
        return b58encode(raw)

    async def execute(self, order: Order, route: Route, attempt: int) -> Execution:
        """Send the signed swap and wait for it to land; fail like a network or a moving price would."""
        rng = self._rng(order.seq, attempt, "execute")
        await self.clock.simulate(rng.uniform(*self.settings.execution_s))
        if rng.random() < self.settings.failure_rate:
            raise SwapFailed(rng.choice(NETWORK_FAILURES))
        spec = self.catalog[order.pair]
        drift = Decimal(repr(rng.gauss(0.0, spec.volatility * 3)))
        places = Decimal(1).scaleb(-spec.price_decimals)
        executed = (route.quoted_price * (1 + drift)).quantize(places, ROUND_HALF_EVEN)
        worse_by = (executed - route.quoted_price) / route.quoted_price
        if order.direction is Direction.SELL:
            worse_by = -worse_by
        if worse_by > self.settings.slippage_tolerance:
            raise SwapFailed(
                f"slippage {worse_by * 100:.2f}% exceeds tolerance {self.settings.slippage_tolerance * 100:.2f}%: "
                f"quoted {route.quoted_price}, executed {executed}"
            )
        return Execution(executed, route.signature)
