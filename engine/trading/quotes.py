"""A venue's quote and the routing decision between the venues, as an aggregator shows them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.model.domain import Direction, Venue


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
        return data

    def legs_text(self) -> str:
        """ "raydium 12,000 at 150.1 + meteora 8,000 at 150.3" for a split; "" otherwise."""
        return " + ".join(f"{leg.venue} {leg.amount} at {leg.effective_price}" for leg in self.legs)


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    quotes: tuple[Quote, Quote]
    chosen: Quote
    margin_bps: Decimal

    @property
    def other(self) -> Quote:
        """What the choice beat: the other venue, or for a split the better single venue."""
        if self.chosen.legs:
            buying = self.chosen.direction is Direction.BUY
            return min(self.quotes, key=lambda quote: quote.effective_price if buying else -quote.effective_price)
        return self.quotes[1] if self.chosen is self.quotes[0] else self.quotes[0]

    def reason(self) -> str:
        better = "lower" if self.chosen.direction is Direction.BUY else "higher"
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

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "quotes": [quote.to_json() for quote in self.quotes],
            "chosen": str(self.chosen.venue),
            "marginBps": self.margin_bps,
        }
        if self.chosen.legs:
            data["split"] = self.chosen.to_json()
        return data
