"""The simulated market: one reference price per token, each pair's and venue's price derived from them.

Every listed token has one reference price, in the first pair's QUOTE (USDC, a stablecoin near 1):
a seeded random walk in simulated time around the token's listed worth (engine/trading/pairs.py
`PairCatalog.value`). The walk is built from octaves of value noise whose amplitude grows with the
square root of their period, which is what makes it walk like Brownian motion at every scale from a
second to most of a day, while staying near the listed price over days (so a desk left running for
a week still shows a plausible SOL). A pair's reference is the ratio of its two tokens' prices, so
SOL-USDT is always SOL-USDC × USDC-USDT: no triangle of reference prices drifts. Each token's
volatility is the smallest of its listed pairs' (USDC and USDT walk like USDC-USDT, SOL like
SOL-USDC). Every value is a pure function of (seed, token or pair, time): any moment can be read in
any order, so the chart can draw the last ten minutes at once and a seed replays the same market
whatever order concurrent tasks happen to ask in.

Each venue's pool price is the reference times its spread, and spreads are built so that no cycle
of trades gains: not a round trip on one pair, not a triangle such as SOL→USDC→USDT→SOL, over any
venues and at any size. The spread has two parts:

- a *centre* per token that wanders slowly (ten minutes to an hour) within ±`TOKEN_CENTRE_MAX`;
  the pair's centre is its BASE's over its QUOTE's, so around any cycle the centres cancel exactly;
- a *gap* per pair, Raydium's log-price over Meteora's, that wanders on its own (minutes to half an
  hour) but never exceeds `VENUE_GAP_MAX` (0.25 %); the venues sit half the gap either side of the
  pair's centre.

So every pool is within half the gap (0.125 %) of a price that is consistent across all pairs,
while every trade pays at least 0.2 % (Meteora's fee; a BUY pays f/(1+f) of what it spends): each
trade of a cycle loses at least 0.07 % net, however the venues lean, and price impact only adds.
A round trip on one pair loses at least the smaller fee (the two venues are within the gap); a
triangle at least three times 0.07 %. That is what arbitrage does to real pools: were a pool
further from the others than the fees, bots would trade it back. The task's ranges (Raydium
0.98–1.02, Meteora 0.97–1.02 of the reference) stay outer bounds: twice the largest centre plus
half the largest gap is inside ln(1.02) and ln(1/0.98). Within the band the better venue still
changes: Meteora's lower fee wins while the pools are close, Raydium wins buys when its pool is more
than 0.1 % cheaper and sells when it is more than 0.1 % dearer, and size moves the choice to the
deeper pool (tests/sim/test_no_free_lunch.py measures both).

Market time is simulated seconds. With a time scale above 0 it starts from the wall clock
(seconds since 2025-01-01, so every process on a database sees the same market at time scale 1)
and runs with the engine's clock (`time_scale` 0.5 runs it at twice real speed). At time scale 0
nothing waits, so the market moves a fixed `STEP_S` per order instead: the n-th order routes at
market time n × STEP_S (a different stretch of the walk from the wall clock's).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from engine.model.clock import Clock
from engine.model.domain import Venue
from engine.trading.pairs import PairCatalog, PairSpec, default_catalog

STEP_S = 2.0
"""Simulated seconds the market moves per order at time scale 0."""
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)

VENUE_SPREAD: dict[Venue, tuple[float, float]] = {Venue.RAYDIUM: (0.98, 1.02), Venue.METEORA: (0.97, 1.02)}
"""The task's ranges for each venue's pool price over the reference: outer bounds, never left."""
VENUE_GAP_MAX = 0.0025
"""Largest log-distance between the two pools' prices of a pair: the arbitrage band (see above)."""
TOKEN_CENTRE_MAX = (
    min(min(math.log(high), -math.log(low)) for low, high in VENUE_SPREAD.values()) - VENUE_GAP_MAX / 2
) / 2
"""Largest log-distance of a token's pool centre from its reference: two of them and half a gap fit the ranges."""

# Reference walk: octave periods in seconds, 1 s up to about 18 h, each four times the last.
_WALK_PERIODS = tuple(4.0**power for power in range(0, 9))
# Per-second volatility of the walk as a share of the token's per-order volatility.
_VOLATILITY_PER_SQRT_S = 0.25
# The tokens' pool centres: slow octaves, 10 minutes to an hour.
_CENTRE_PERIODS = (600.0, 1800.0, 3600.0)
# The gap between the venues: 3 minutes to half an hour, so the better venue changes now and then,
# not from one order to the next.
_GAP_PERIODS = (180.0, 600.0, 1800.0)
_RECENT_MAX = 4096
_MASK = (1 << 64) - 1


def _mix(value: int) -> int:
    """splitmix64's finaliser: a fast, well-spread hash of a 64-bit integer."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def _stable_hash(text: str) -> int:
    result = 0xCBF29CE484222325
    for byte in text.encode():
        result = ((result ^ byte) * 0x100000001B3) & _MASK
    return result


class _Noise:
    """Smooth value noise: seeded values in [-√3, √3] (unit variance) at integer knots, eased between.

    The two knots around the last `x` are kept: consecutive reads (the n-th order at time scale 0
    reads n × 2 s, the chart reads along its time axis) stay between the same knots in every
    octave but the fastest, so most reads hash nothing. The value is still a pure function of `x`.
    """

    __slots__ = ("_below", "_rise", "_start", "key")

    def __init__(self, key: int) -> None:
        self.key = key
        self._below: int | None = None
        self._start = 0.0
        self._rise = 0.0

    def knot(self, index: int) -> float:
        raw = _mix(self.key ^ (index & _MASK))
        return (raw / _MASK * 2.0 - 1.0) * math.sqrt(3.0)

    def at(self, x: float) -> float:
        below = math.floor(x)
        if below != self._below:
            start = self.knot(below)
            self._below, self._start, self._rise = below, start, self.knot(below + 1) - start
        frac = x - below
        return self._start + self._rise * (frac * frac * (3.0 - 2.0 * frac))


def _octaves_at(octaves: list[tuple[_Noise, float, float]], at: float) -> float:
    """Σ amplitude × noise(at / period) over the octaves: `_Noise.at` inlined, the same sums in the same order.

    A new market moment evaluates some sixty octaves (each token's walk and centre, each pair's gap);
    a quote at time scale 0 is always a new moment, and the calls were most of its cost.
    """
    total = 0.0
    floor = math.floor
    for noise, period, amplitude in octaves:
        x = at / period
        below = floor(x)
        if below != noise._below:
            start = noise.knot(below)
            noise._below, noise._start, noise._rise = below, start, noise.knot(below + 1) - start
        frac = x - below
        total += amplitude * (noise._start + noise._rise * (frac * frac * (3.0 - 2.0 * frac)))
    return total


class Market:
    """Prices by token, pair, venue and market time; `now()` says what market time it is."""

    def __init__(self, seed: int, clock: Clock, catalog: PairCatalog | None = None) -> None:
        self.seed = seed
        self.clock = clock
        self.catalog = catalog if catalog is not None else default_catalog()
        self._volatility = _token_volatilities(self.catalog)
        self._walks: dict[str, list[tuple[_Noise, float, float]]] = {}
        self._spreads: dict[tuple[str, str], list[tuple[_Noise, float, float]]] = {}
        self._recent: dict[tuple[str, float], float] = {}
        self._recent_wander: dict[tuple[str, str, float], float] = {}
        self._anchor_time = 0.0
        self._anchor_clock: float | None = None
        self._anchor_scale = clock.time_scale

    # -- market time ------------------------------------------------------------------------

    def anchor(self, market_time: float) -> None:
        """Make it `market_time` now; from here it runs with the clock at its time scale."""
        self._anchor_time = market_time
        self._anchor_clock = self.clock.monotonic()
        self._anchor_scale = self.clock.time_scale

    def now(self, next_seq: int) -> float:
        """Market time now; at time scale 0 it is the time the order numbered `next_seq` will see."""
        scale = self.clock.time_scale
        if scale <= 0:
            return self.order_time(next_seq)
        if self._anchor_clock is None:
            self.anchor((self.clock.utc_now() - EPOCH).total_seconds())
        elif scale != self._anchor_scale:
            # The user changed the time scale: carry on from where the market is, at the new speed.
            self.anchor(self._anchor_time + (self.clock.monotonic() - (self._anchor_clock or 0.0)) / self._anchor_scale)
        assert self._anchor_clock is not None
        return self._anchor_time + (self.clock.monotonic() - self._anchor_clock) / scale

    @staticmethod
    def order_time(seq: int) -> float:
        return seq * STEP_S

    # -- prices -----------------------------------------------------------------------------

    def token_price(self, token: str, at: float) -> float:
        """The token's reference price at market time `at`, in the first pair's QUOTE (USDC)."""
        key = (token, at)
        cached = self._recent.get(key)
        if cached is not None:
            return cached
        if len(self._recent) > _RECENT_MAX:
            self._recent.clear()
        octaves = self._walks.get(token)
        if octaves is None:
            sigma = self._volatility.get(token, 0.0) * _VOLATILITY_PER_SQRT_S
            base = _stable_hash(f"{self.seed}:{token}:token-walk")
            # Each octave carries its share of the variance; together Var ≈ σ² × period at each scale.
            octaves = [
                (_Noise(_mix(base + index)), period, sigma * math.sqrt(period / 4.0))
                for index, period in enumerate(_WALK_PERIODS)
            ]
            self._walks[token] = octaves
        move = _octaves_at(octaves, at)
        price = float(self.catalog.value(token)) * math.exp(move)
        self._recent[key] = price
        return price

    def reference(self, spec: PairSpec, at: float) -> float:
        """The pair's reference price at market time `at`: its BASE's price over its QUOTE's.

        Listed or routable alike (SOL-RAY is SOL's price over RAY's), and both venues' quotes of a
        moment share it."""
        return self.token_price(spec.base, at) / self.token_price(spec.quote, at)

    def spread(self, spec: PairSpec, venue: Venue, at: float) -> float:
        """The venue's pool price over the reference: the pair's centre, moved half the gap up or down."""
        centre = self._centre(spec.base, at) - self._centre(spec.quote, at)
        half_gap = self._gap(spec, at) / 2
        return math.exp(centre + half_gap if venue is Venue.RAYDIUM else centre - half_gap)

    def _centre(self, token: str, at: float) -> float:
        """The token's pool centre as a log-distance from its reference, strictly inside ±TOKEN_CENTRE_MAX."""
        return TOKEN_CENTRE_MAX * math.tanh(0.8 * self._wander(token, "centre", _CENTRE_PERIODS, at))

    def _gap(self, spec: PairSpec, at: float) -> float:
        """Raydium's log-price over Meteora's, strictly inside ±VENUE_GAP_MAX."""
        return VENUE_GAP_MAX * math.tanh(0.9 * self._wander(spec.pair, "gap", _GAP_PERIODS, at))

    def _wander(self, name: str, part: str, periods: tuple[float, ...], at: float) -> float:
        """Smooth noise of about unit variance, made of one octave per period.

        Kept for the moment like token prices: both venues of a pair share its gap, and every pair
        with a token (a two-hop check prices several at one moment) shares that token's centre."""
        moment = (name, part, at)
        cached = self._recent_wander.get(moment)
        if cached is not None:
            return cached
        if len(self._recent_wander) > _RECENT_MAX:
            self._recent_wander.clear()
        key = (name, part)
        octaves = self._spreads.get(key)
        if octaves is None:
            base = _stable_hash(f"{self.seed}:{name}:{part}:spread")
            octaves = [(_Noise(_mix(base + index)), period, 1.0) for index, period in enumerate(periods)]
            self._spreads[key] = octaves
        value = _octaves_at(octaves, at) / math.sqrt(len(octaves))
        self._recent_wander[moment] = value
        return value

    def pool_price(self, spec: PairSpec, venue: Venue, at: float) -> float:
        return self.reference(spec, at) * self.spread(spec, venue, at)


def _token_volatilities(catalog: PairCatalog) -> dict[str, float]:
    """Each token's per-order volatility: the smallest of its listed pairs' (a stablecoin's is USDC-USDT's).

    A pair then moves about as its own listed volatility says (SOL-USDC ≈ √(0.0012² + 0.0001²))."""
    found: dict[str, float] = {}
    for spec in catalog:
        for token in (spec.base, spec.quote):
            found[token] = min(found.get(token, spec.volatility), spec.volatility)
    return found
