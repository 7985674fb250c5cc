"""A venue's quote and the routing decision between the venues, as an aggregator shows them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.model.domain import Direction, Venue


@dataclass(frozen=True, slots=True)
class HopQuote:
    """One hop of a two-hop route: a swap of `amount_in` of one token for `amount_out` of another on
    one venue's pool of a listed pair. `price` is that pair's QUOTE per BASE for this swap, fee and
    impact included, so a trader reads it like any quote of the pair."""

    pair: str
    venue: Venue
    token_in: str
    token_out: str
    amount_in: Decimal
    amount_out: Decimal
    pool_price: Decimal
    fee_rate: Decimal
    price_impact: Decimal
    price: Decimal
    fee: Decimal  # the venue's fee in the hop pair's QUOTE token, as every fee in dexdesk is

    def to_json(self) -> dict[str, Any]:
        return {
            "pair": self.pair,
            "venue": str(self.venue),
            "tokenIn": self.token_in,
            "tokenOut": self.token_out,
            "amountIn": self.amount_in,
            "amountOut": self.amount_out,
            "poolPrice": self.pool_price,
            "feeRate": self.fee_rate,
            "fee": self.fee,
            "priceImpact": self.price_impact,
            "price": self.price,
        }

    def text(self) -> str:
        """The hop in a log line, amounts to eight significant digits (the JSON keeps all twelve places)."""
        amount_in, amount_out = _readable(self.amount_in), _readable(self.amount_out)
        return f"{self.venue} {amount_in} {self.token_in} → {amount_out} {self.token_out} on {self.pair}"


def _readable(value: Decimal) -> str:
    """300960.362741105919 → 300960.36, 2000 → 2000, 0.000123456789 → 0.00012345679."""
    if value == 0:
        return "0"
    places = max(0, 7 - value.adjusted())
    return f"{value.quantize(Decimal(1).scaleb(-places)).normalize():f}"


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
    market_time: float = 0.0
    # A split across both venues (engine/trading/split.py): each leg's own quote; `venue` is the larger
    # leg's, and the figures above are the legs' amount-weighted (fee: notional-weighted) average.
    legs: tuple[Quote, ...] = ()
    # A two-hop route (engine/trading/hops.py): each hop in the order the tokens flow; `venue` is the first
    # hop's, `effective_price` the whole route's in this order's pair, fee and impact compounded.
    hops: tuple[HopQuote, ...] = ()

    def to_json(self) -> dict[str, Any]:
        side = "maxSpent" if self.direction is Direction.BUY else "minReceived"
        data = {
            "venue": str(self.venue),
            "poolPrice": self.pool_price,
            "feeRate": self.fee_rate,
            "priceImpact": self.price_impact,
            "effectivePrice": self.effective_price,
            side: self.limit_total,
        }
        if self.legs:
            data["legs"] = [{**leg.to_json(), "amount": leg.amount} for leg in self.legs]
        if self.hops:
            data["hops"] = [hop.to_json() for hop in self.hops]
        return data

    def legs_text(self) -> str:
        """ "raydium 12,000 at 150.1 + meteora 8,000 at 150.3" for a split, the hops of a two-hop route, else ""."""
        if self.hops:
            return " then ".join(hop.text() for hop in self.hops)
        return " + ".join(f"{leg.venue} {leg.amount} at {leg.effective_price}" for leg in self.legs)


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    quotes: tuple[Quote, Quote]
    chosen: Quote
    margin_bps: Decimal
    # A listed pair routed through two hops: the best direct route (one venue or a split) they beat.
    direct: Quote | None = None

    @property
    def other(self) -> Quote:
        """What the choice beat: the other venue, or for a split or two hops the better compared quote."""
        if self.chosen.legs or self.chosen.hops:
            buying = self.chosen.direction is Direction.BUY
            return min(self.quotes, key=lambda quote: quote.effective_price if buying else -quote.effective_price)
        return self.quotes[1] if self.chosen is self.quotes[0] else self.quotes[0]

    def reason(self) -> str:
        better = "lower" if self.chosen.direction is Direction.BUY else "higher"
        if self.chosen.hops:
            via = self.chosen.hops[0].token_out
            if self.direct is not None:
                return self._two_hop_over_direct(self.direct, better)
            why = "no listed pair trades these tokens"
            compared = f"the best single-venue route ({self.other.venue} on both hops) at {self.other.effective_price}"
            return (
                f"two hops via {via} ({why}): {self.chosen.legs_text()}; average {self.chosen.effective_price} "
                f"is {better} than {compared} by {self.margin_bps} bps after both hops' fees and impact"
            )
        if self.chosen.legs:
            return (
                f"split {self.chosen.legs_text()}: average {self.chosen.effective_price} is {better} than "
                f"{self.other.venue} alone at {self.other.effective_price} by {self.margin_bps} bps after fees "
                "and impact (sizes equalise both pools' marginal prices)"
            )
        return (
            f"{self.chosen.venue} chosen: effective price {self.chosen.effective_price} is {better} than "
            f"{self.other.venue}'s {self.other.effective_price} by {self.margin_bps} bps after fees and impact"
        )

    def _two_hop_over_direct(self, direct: Quote, better: str) -> str:
        """Why two hops beat a listed pair's own pools: what each route gives (SELL) or costs (BUY)."""
        chosen = self.chosen
        via = chosen.hops[0].token_out
        base, quote = chosen.hops[0].token_in, chosen.hops[-1].token_out
        if chosen.direction is Direction.BUY:
            base, quote = quote, base
        verb = "costs" if chosen.direction is Direction.BUY else "gets"
        places = chosen.effective_price
        direct_route = direct.legs_text() or f"{direct.venue}"
        return (
            f"two hops via {via} beat the direct pair: {chosen.legs_text()}; {chosen.amount} {base} {verb} "
            f"{_total(chosen).quantize(places)} {quote} through {via}, {_total(direct).quantize(places)} {quote} "
            f"direct ({direct_route}): average {chosen.effective_price} is {better} than {direct.effective_price} "
            f"by {self.margin_bps} bps after both hops' fees and impact"
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "quotes": [quote.to_json() for quote in self.quotes],
            "chosen": str(self.chosen.venue),
            "marginBps": self.margin_bps,
        }
        if self.chosen.legs:
            data["split"] = self.chosen.to_json()
        if self.chosen.hops:
            data["twoHop"] = {**self.chosen.to_json(), "via": self.chosen.hops[0].token_out}
        if self.direct is not None:
            data["direct"] = {**self.direct.to_json(), "total": _total(self.direct)}
            data["twoHop"]["total"] = _total(self.chosen)
        return data


def _total(quote: Quote) -> Decimal:
    """What the whole route pays (BUY) or gets (SELL) in the pair's QUOTE: the hops' own amounts when it
    has them, else amount × effective price."""
    if quote.hops:
        return quote.hops[0].amount_in if quote.direction is Direction.BUY else quote.hops[-1].amount_out
    return quote.amount * quote.effective_price
