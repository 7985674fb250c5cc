"""The paper account's arithmetic, apart from storage: what an order reserves, what a fill settles.

All amounts are exact Decimals. A BUY reserves `amount × price_bound` of the QUOTE token (the most
it may pay), a SELL reserves `amount` of the BASE token. CONFIRMED settles exactly what was
executed (`amount × executionPrice`, fees included as the price already includes them) and
releases the reserve; FAILED and CANCELLED only release it. An execution can never pay more than
was reserved, because the router refuses a price past the order's bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from engine.model.domain import Direction, Order, OrderStatus, Venue
from engine.model.execution_figures import order_fee, order_slippage_bps
from engine.model.validation import FieldError, InvalidOrder
from engine.trading.router import FEES

DEFAULT_START = "USDC=10000,USDT=10000,SOL=10"


@dataclass(frozen=True, slots=True)
class Reservation:
    order_id: str
    token: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Balance:
    token: str
    total: Decimal
    reserved: Decimal

    @property
    def available(self) -> Decimal:
        return self.total - self.reserved


@dataclass(frozen=True, slots=True)
class Fill:
    """One settled execution, as the account keeps it (notional and fee in the QUOTE token)."""

    order_id: str
    seq: int
    pair: str
    direction: Direction
    amount: Decimal
    price: Decimal
    notional: Decimal
    fee: Decimal
    venue: str
    executed_at: datetime

    @property
    def base(self) -> str:
        return self.pair.split("-")[0]

    @property
    def quote(self) -> str:
        return self.pair.split("-")[1]


def tokens_of(pair: str) -> tuple[str, str]:
    base, quote = pair.split("-")
    return base, quote


def reservation_for(order: Order) -> Reservation | None:
    """What submitting `order` reserves; None for an order without a price bound (stored by 0.1.0)."""
    base, quote = tokens_of(order.pair)
    if order.direction is Direction.SELL:
        return Reservation(order.id, base, order.amount)
    bound = order.terms.price_bound
    if bound is None:
        return None
    return Reservation(order.id, quote, order.amount * bound)


def fee_paid(notional: Decimal, direction: Direction, venue: Venue | str | None) -> Decimal:
    """The venue's fee inside a notional whose price already includes it (BUY ×(1+f), SELL ×(1−f))."""
    if venue is None:
        return Decimal(0)
    rate = FEES[Venue(str(venue))]
    return notional * rate / (1 + rate) if direction is Direction.BUY else notional * rate / (1 - rate)


def fill_for(order: Order) -> Fill | None:
    """The fill a CONFIRMED order settles, or None for any other state."""
    if order.status is not OrderStatus.CONFIRMED or order.execution_price is None:
        return None
    notional = order.amount * order.execution_price
    fee = (order_fee(order) or Decimal(0)).quantize(Decimal("1e-12"))  # a split's legs each pay their own
    return Fill(
        order.id,
        order.seq,
        order.pair,
        order.direction,
        order.amount,
        order.execution_price,
        notional,
        fee,
        str(order.dex),
        order.updated_at,
    )


def settlement_deltas(reserved: Reservation, order: Order) -> dict[str, tuple[Decimal, Decimal]]:
    """Per token, the change to (total, reserved) when `order` ends with this reservation."""
    deltas: dict[str, list[Decimal]] = {reserved.token: [Decimal(0), -reserved.amount]}
    fill = fill_for(order)
    if fill is not None:
        base, quote = tokens_of(order.pair)
        spent, received = (quote, base) if order.direction is Direction.BUY else (base, quote)
        spent_amount = fill.notional if order.direction is Direction.BUY else fill.amount
        received_amount = fill.amount if order.direction is Direction.BUY else fill.notional
        deltas.setdefault(spent, [Decimal(0), Decimal(0)])[0] -= spent_amount
        deltas.setdefault(received, [Decimal(0), Decimal(0)])[0] += received_amount
    return {token: (total, held) for token, (total, held) in deltas.items()}


def parse_balances(text: str, field: str = "balances") -> dict[str, Decimal]:
    """`USDC=10000,SOL=10` → {"USDC": 10000, "SOL": 10}; bad text raises InvalidOrder naming the field."""
    balances: dict[str, Decimal] = {}
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        token, sep, raw = part.partition("=")
        token = token.strip().upper()
        if not sep or not token.isalnum() or not token.isascii() or len(token) > 16:
            raise InvalidOrder([FieldError(field, f"must look like USDC=10000,SOL=10 (got {part!r})")])
        try:
            amount = Decimal(raw.strip())
        except InvalidOperation:
            raise InvalidOrder([FieldError(field, f"{token}: must be a plain decimal number")]) from None
        if not amount.is_finite() or amount < 0:
            raise InvalidOrder([FieldError(field, f"{token}: must be 0 or more")])
        balances[token] = amount
    if not balances:
        raise InvalidOrder([FieldError(field, "name at least one token, e.g. USDC=10000")])
    return balances


def format_amount(value: Decimal) -> str:
    """Grouped with two decimals, or more for small amounts (0.0042 SOL is not 0.00)."""
    if value != 0 and abs(value) < 1:
        return f"{value.normalize():,f}" if abs(value) >= Decimal("1e-10") else "0.00"
    return f"{value:,.2f}"


class Shortfall(InvalidOrder):
    """The account cannot cover what the orders would reserve: bad input, refused, nothing stored."""

    @classmethod
    def of(cls, token: str, needed: Decimal, available: Decimal) -> Shortfall:
        return cls(
            [FieldError("amount", f"needs {format_amount(needed)} {token}, {format_amount(available)} available")]
        )


def notional(order: Order) -> Decimal | None:
    """What a CONFIRMED order paid or received in QUOTE (amount × executionPrice, fees included)."""
    if order.status is not OrderStatus.CONFIRMED or order.execution_price is None:
        return None
    return order.amount * order.execution_price


def slippage_bps(order: Order) -> Decimal | None:
    """How much worse than the price it was sent at a CONFIRMED order filled, in bps (negative: better).

    The one definition (engine/model/execution_figures.py `order_slippage_bps`), so the board and the
    blotter show the number the CSV, the detail view and the summary show.
    """
    return order_slippage_bps(order)
