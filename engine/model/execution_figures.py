"""The figures a trader reads off an executed order: quoted price, slippage in bps, notional and fee in QUOTE.

One definition, used by the board, the fills blotter, the CSV report, the detail view and the
summary, so they never disagree. Slippage is measured against the price the order was sent at
(`sent_price`: the quote it was sent from, or its limit), the price its bound is built on.
`settled_figures` computes them once, when an order is CONFIRMED: they are stored beside the order
(see `engine.storage.figure_columns`), so the report and the summary read columns instead of
working them out again for every row. Slippage is signed so that positive is worse for the
trader (paid more on a BUY, received less on a SELL). The venue's fee is part of the quoted and
executed price (the router quotes prices "fees included"), so the fee paid is the share of the
notional that the fee rate accounts for.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from engine.model.domain import Direction, Order, OrderStatus, OrderType, Venue
from engine.trading.router import FEES

BPS = Decimal(10_000)
_TENTH = Decimal("0.1")
_PLACES = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class SettledFigures:
    """What the report's added columns show for a CONFIRMED order, exactly as the CSV writes them."""

    quoted_price: Decimal | None
    slippage_bps: Decimal | None
    notional: Decimal | None  # QUOTE, to 8 places
    fee: Decimal | None  # QUOTE, to 8 places


def settled_figures(
    direction: Direction,
    amount: Decimal,
    venue: Venue | str | None,
    executed: Decimal,
    quoted: Decimal | None,
    fee: Decimal | None = None,
) -> SettledFigures:
    """The figures of an executed order; `quoted` is its sent price, `fee` its fee when known (a split's legs)."""
    moved = notional(amount, executed)
    return SettledFigures(
        quoted,
        slippage_bps(direction, quoted, executed),
        _to_places(moved),
        _to_places(fee if fee is not None else fee_paid(venue, direction, moved)),
    )


def order_fee(order: Order) -> Decimal | None:
    """The venue fees inside a CONFIRMED order's notional: each leg's own for a split, both hops' for
    two hops, else its venue's."""
    hops = order.route.hops if order.route is not None else ()
    moved = notional(order.amount, order.execution_price)
    if hops and moved is not None:
        # Two hops: both fees, in the order's QUOTE. Each hop keeps 1/(1+f) of a BUY of its BASE
        # and 1-f of a SELL; what the route kept is the product, so a BUY paid moved × (1 - kept)
        # in fees and a SELL gave up moved × (1/kept - 1), as one venue's fee_share is for one hop.
        kept = Decimal(1)
        for hop in hops:
            rate = FEES[hop.venue]
            kept *= 1 / (1 + rate) if hop.token_in == hop.pair.split("-")[1] else 1 - rate
        return moved * (1 - kept) if order.direction is Direction.BUY else moved * (1 / kept - 1)
    legs = order.route.legs if order.route is not None else ()
    if legs and all(leg.executed_price is not None for leg in legs):
        total = Decimal(0)
        for leg in legs:
            share = fee_share(leg.venue, order.direction) or Decimal(0)
            total += leg.amount * (leg.executed_price or Decimal(0)) * share
        return total
    return fee_paid(order.dex, order.direction, notional(order.amount, order.execution_price))


def _to_places(value: Decimal | None) -> Decimal | None:
    """Notional and fee to 8 places: exact enough for any QUOTE token, short enough to read."""
    return None if value is None else value.quantize(_PLACES, ROUND_HALF_EVEN)


def sent_price(order: Order) -> Decimal | None:
    """The price an order was sent at, the one slippage is measured against everywhere.

    It is the price the order's bound is built on, so it is what a trader reconciles a fill with:
    a market order's quote it was sent from (the ticket's, or the engine's at submission), a limit
    order's limit. An order stored before order terms existed (0.1.0) has neither and falls back
    to its routing quote, as every figure did then.
    """
    terms = order.terms
    if terms.type is OrderType.LIMIT and terms.price_bound is not None:
        return terms.price_bound
    if terms.quoted_price is not None:
        return terms.quoted_price
    return order.route.quoted_price if order.route is not None else None


def order_slippage_bps(order: Order) -> Decimal | None:
    """A CONFIRMED order's slippage against its sent price (`sent_price`), in bps; None otherwise."""
    if order.status is not OrderStatus.CONFIRMED:
        return None
    return slippage_bps(order.direction, sent_price(order), order.execution_price)


def slippage_bps(direction: Direction, quoted: Decimal | None, executed: Decimal | None) -> Decimal | None:
    """Executed against quoted, in basis points to one decimal; positive = worse than quoted."""
    if quoted is None or executed is None or quoted == 0:
        return None
    worse = (executed - quoted) / quoted if direction is Direction.BUY else (quoted - executed) / quoted
    return (worse * BPS).quantize(_TENTH, ROUND_HALF_EVEN)


def slippage_words(bps: Decimal | None) -> str:
    """ "21.0 bps worse", "3.5 bps better", "as quoted"."""
    if bps is None:
        return ""
    if bps == 0:
        return "as quoted"
    return f"{abs(bps)} bps {'worse' if bps > 0 else 'better'}"


def notional(amount: Decimal, price: Decimal | None) -> Decimal | None:
    """What the order moved in QUOTE: amount × executed price."""
    return None if price is None else amount * price


def fee_share(venue: Venue | str | None, direction: Direction) -> Decimal | None:
    """The part of a fee-inclusive notional that is the venue's fee (None for an unknown venue)."""
    if venue is None:
        return None
    rate = FEES.get(Venue(str(venue)))
    if rate is None:
        return None
    return rate / (1 + rate) if direction is Direction.BUY else rate / (1 - rate)


def fee_paid(venue: Venue | str | None, direction: Direction, moved: Decimal | None) -> Decimal | None:
    share = fee_share(venue, direction)
    return None if share is None or moved is None else moved * share
