"""What the ticket knows of the account: the balance the order spends, Max and Half, and whether it is covered.

The engine reserves what an order may spend when it is stored (a BUY: amount × its price bound in
the QUOTE token; a SELL: the amount of the BASE token) and refuses a shortfall. The ticket says the
same before Enter: the trader sees the available balance of the token the order spends, and a
BUY the account cannot cover keeps no green button (issue 24: it stayed green until Enter).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from engine.model.domain import Direction, OrderType
from engine.model.validation import OrderRequest
from engine.trading.pairs import PairSpec
from ui.formatting import PairFormats, group_decimal

if TYPE_CHECKING:
    from ui.ticket import OrderTicket

# What one unit of base costs for a given amount (the quote's price bound); Max asks it a few times,
# since a larger amount moves the pool's price against it.
UnitCost = Callable[[Decimal], Decimal]
_MAX_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class Cover:
    token: str
    needed: Decimal
    available: Decimal

    @property
    def covered(self) -> bool:
        return self.needed <= self.available


def spends(spec: PairSpec, side: Direction) -> str:
    return spec.quote if side is Direction.BUY else spec.base


def cover_of(request: OrderRequest, spec: PairSpec, market_total: Decimal, balances: Mapping[str, Decimal]) -> Cover:
    """What `request` reserves against what is available; `market_total` is the quote's max spent."""
    token = spends(spec, request.direction)
    if request.direction is Direction.SELL:
        needed = request.amount
    elif request.order_type is OrderType.LIMIT and request.limit_price is not None:
        needed = request.amount * request.limit_price
    else:
        needed = market_total
    return Cover(token, needed, balances.get(token, Decimal(0)))


def most_amount(spec: PairSpec, side: Direction, available: Decimal, unit_cost: UnitCost) -> Decimal:
    """The largest amount `available` covers, at the pair's decimals, within its min and max (0 if none)."""
    step = Decimal(1).scaleb(-spec.decimals)
    if side is Direction.SELL:
        amount = available
    else:
        amount = available / unit_cost(spec.min_amount)
        for _ in range(_MAX_ROUNDS):  # the price at that size is worse: ask again at it
            amount = min(amount, available / unit_cost(min(amount, spec.max_amount)))
    amount = min(amount, spec.max_amount).quantize(step, ROUND_DOWN)
    return amount if amount >= spec.min_amount else Decimal(0)


class FundsRow(QWidget):
    """ "Available 9,856.13 USDC  [Half] [Max]" under the amount; hidden when there is no paper account."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.available = QLabel()
        self.available.setObjectName("hint")
        self.half = QPushButton("Half")
        self.half.setToolTip("Half of what the available balance covers")
        self.max = QPushButton("Max")
        self.max.setToolTip("All that the available balance covers, at the quote now")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.available, 1)
        layout.addWidget(self.half)
        layout.addWidget(self.max)

    def show_available(self, token: str, available: Decimal, places: int) -> None:
        self.available.setText(f"Available {group_decimal(available, places)} {token}")


class TicketAccount:
    """The ticket's side of the account: the funds row, the cover check on every change, Max and Half."""

    def __init__(self, ticket: OrderTicket) -> None:
        self.ticket = ticket
        self.formats = PairFormats(ticket.catalog)
        self.balances: dict[str, Decimal] | None = None  # available per token; None: no paper account
        self.cover: Cover | None = None

    def show_funds(self, spec: PairSpec | None) -> None:
        funds = self.ticket.funds
        if self.balances is None or spec is None:
            funds.hide()
            return
        token = spends(spec, self.ticket.side)
        funds.show_available(token, self.balances.get(token, Decimal(0)), self.formats.token_places(token))
        funds.show()

    def show_cover(self, request: OrderRequest | None) -> None:
        """Whether the account covers what is typed; the button stays disabled with the reason if not."""
        ticket = self.ticket
        decision = ticket.decision
        self.cover = None
        if request is not None and self.balances is not None and decision is not None:
            spec = ticket.catalog[request.pair]
            self.cover = cover_of(request, spec, decision.chosen.limit_total, self.balances)
        cover, label = self.cover, ticket.submit_error
        if cover is None or cover.covered:
            if label.property("cover"):
                label.setProperty("cover", False)
                ticket.show_submit_problem(None)
            return
        places = self.formats.token_places(cover.token)
        needed, available = group_decimal(cover.needed, places), group_decimal(cover.available, places)
        label.setText(f"Not enough {cover.token}: needs {needed}, {available} available")
        label.setProperty("cover", True)
        label.show()
        ticket.submit.setEnabled(False)

    def fill_share(self, share: Decimal) -> None:
        """Max (share 1) or Half: the amount the available balance covers at the quote now."""
        ticket = self.ticket
        spec = ticket.catalog.get(ticket.pair.currentText().strip().upper())
        if spec is None or self.balances is None:
            return
        side = ticket.side
        available = self.balances.get(spends(spec, side), Decimal(0)) * share
        limit = _typed_price(ticket.limit_price.text()) if ticket.is_limit else None
        slippage = ticket.slippage_fraction()

        def unit_cost(amount: Decimal) -> Decimal:
            if limit is not None:
                return limit
            return ticket.quote_for(spec.pair, amount, side, slippage).chosen.limit_total / amount

        amount = most_amount(spec, side, available, unit_cost)
        ticket.amount.setText(f"{amount:f}" if amount else "")
        ticket.amount.setFocus()


def _typed_price(text: str) -> Decimal | None:
    try:
        price = Decimal(text.strip())
    except ArithmeticError:
        return None
    return price if price.is_finite() and price > 0 else None
