"""How much of an order each venue should take, so that a split pays less (BUY) or gets more (SELL).

Both pools are constant-product pools (engine/trading/router.py): taking Δ BASE out of a pool of depth L
at pool price P with fee f costs P(1+f)·LΔ/(L−Δ) in all, so the last unit costs P(1+f)·L²/(L−Δ)²;
selling Δ into it gets P(1−f)·LΔ/(L+Δ), the last unit P(1−f)·L²/(L+Δ)². The total is convex in
the split, so the cheapest split is where both venues' last units cost the same (the marginal
prices are equal), as an aggregator splits. With k = √(P(1±f))·L for each venue that point is,
for the first venue's share x of an order of s:

    BUY:  x = (k₂·L₁ − k₁·(L₂ − s)) / (k₁ + k₂)
    SELL: x = (k₁·(L₂ + s) − k₂·L₁) / (k₁ + k₂)

clipped to [0, s]. At small sizes it is a corner (the whole order on the venue with the better
price after fees); only an order large enough for price impact to outweigh the venues' price and
fee difference splits. The router still compares the split's net price with the better single
venue's and keeps the split only when it is strictly better.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal

from engine.model.domain import Direction, Venue
from engine.trading.pairs import PairSpec
from engine.trading.quotes import Quote

_SIX = Decimal("0.000001")
QuoteFor = Callable[[PairSpec, Decimal, Direction, Venue, float], Quote]


def first_venue_share(
    direction: Direction, amount: float, first: tuple[float, float], second: tuple[float, float]
) -> float:
    """The first venue's part of `amount` that equalises marginal prices; each venue is (price after fee, depth)."""
    (price_1, depth_1), (price_2, depth_2) = first, second
    k_1, k_2 = math.sqrt(price_1) * depth_1, math.sqrt(price_2) * depth_2
    if direction is Direction.BUY:
        share = (k_2 * depth_1 - k_1 * (depth_2 - amount)) / (k_1 + k_2)
    else:
        share = (k_1 * (depth_2 + amount) - k_2 * depth_1) / (k_1 + k_2)
    return min(max(share, 0.0), amount)


def split_quote(
    quote_for: QuoteFor,
    spec: PairSpec,
    amount: Decimal,
    direction: Direction,
    at: float,
    tolerance: Decimal,
    singles: tuple[Quote, Quote],
) -> Quote | None:
    """Both venues' parts of the order at equal marginal prices, as one quote; None for a corner.

    Each leg is its venue's own quote for its part (fee and impact included); the split quote's
    effective price is their amount-weighted average, which the router compares with the better
    single venue's.
    """
    first, second = singles
    sign = 1 if direction is Direction.BUY else -1
    terms = [
        (float(quote.pool_price) * (1 + sign * float(quote.fee_rate)), spec.liquidity[quote.venue]) for quote in singles
    ]
    share = first_venue_share(direction, float(amount), terms[0], terms[1])
    part = Decimal(repr(share)).quantize(Decimal(1).scaleb(-spec.decimals), ROUND_HALF_EVEN)
    rest = amount - part
    if part < spec.min_amount or rest < spec.min_amount:
        return None
    legs = (quote_for(spec, part, direction, first.venue, at), quote_for(spec, rest, direction, second.venue, at))
    places = Decimal(1).scaleb(-spec.price_decimals)
    notionals = [leg.amount * leg.effective_price for leg in legs]
    moved = sum(notionals, Decimal(0))
    effective = (moved / amount).quantize(places, ROUND_HALF_EVEN)
    factor = 1 + tolerance if direction is Direction.BUY else 1 - tolerance
    weighted_fee = sum((value * leg.fee_rate for value, leg in zip(notionals, legs, strict=True)), Decimal(0))
    weighted_impact = sum((leg.amount * leg.price_impact for leg in legs), Decimal(0))
    weighted_pool = sum((leg.amount * leg.pool_price for leg in legs), Decimal(0))
    return Quote(
        venue=max(legs, key=lambda leg: leg.amount).venue,
        pool_price=(weighted_pool / amount).quantize(places, ROUND_HALF_EVEN),
        fee_rate=(weighted_fee / moved).quantize(_SIX, ROUND_HALF_EVEN),
        price_impact=(weighted_impact / amount).quantize(_SIX, ROUND_HALF_EVEN),
        effective_price=effective,
        amount=amount,
        direction=direction,
        limit_total=(amount * effective * factor).quantize(places, ROUND_HALF_EVEN),
        market_time=at,
        legs=legs,
    )
