"""The figures a trader reads off an executed order: quoted price, slippage in bps, notional and fee in QUOTE.

One definition, used by the CSV report, the detail view and the summary, so they never disagree.
Slippage is signed so that positive is worse for the trader (paid more on a BUY, received less
on a SELL). The venue's fee is part of the quoted and executed price (the router quotes prices
"fees included"), so the fee paid is the share of the notional that the fee rate accounts for.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from engine.domain import Direction, Venue
from engine.router import FEES

BPS = Decimal(10_000)
_TENTH = Decimal("0.1")


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
