"""The ticket's live quote: both venues side by side, the winner starred, the verdict in words.

Split out of the ticket (issue 25: a 147-line constructor): the ticket validates and sends, this
shows what the router would do with what is typed, as an aggregator (Jupiter) shows it.
"""

from __future__ import annotations

import time
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from engine.model.domain import Direction, OrderType, Venue
from engine.model.validation import OrderRequest
from engine.trading.pairs import PairCatalog
from engine.trading.router import RoutingDecision
from ui.formatting import PairFormats, group_decimal, impact_text, percent
from ui.tables import cell, header_item, read_only_table
from ui.theme import MUTED_TEXT, WINNER_TEXT

VENUES = tuple(str(venue) for venue in Venue)  # the columns, in the order the router lists the venues
QUOTE_ROWS = ("Price", "Fee", "Price impact", "Max spent", "Route")


class QuotePanel(QWidget):
    def __init__(self, catalog: PairCatalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.formats = PairFormats(catalog)
        self.decision: RoutingDecision | None = None
        self._quoted_at = 0.0
        self.quote_age = QLabel()
        self.quote_age.setObjectName("hint")
        self.quotes = _quote_table()
        self.verdict = QLabel()
        self.verdict.setObjectName("hint")
        self.verdict.setWordWrap(True)
        title_row = QHBoxLayout()
        title = QLabel("Quote")
        title.setObjectName("sectionTitle")
        title_row.addWidget(title)
        title_row.addStretch(1)
        title_row.addWidget(self.quote_age)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(title_row)
        layout.addWidget(self.quotes)
        layout.addWidget(self.verdict)

    def show_age(self) -> None:
        if self.decision is None:
            self.quote_age.setText("")
            return
        age = max(0.0, time.monotonic() - self._quoted_at)
        self.quote_age.setText(f"quoted {age:.1f} s ago · live")

    def clear(self, side: Direction) -> None:
        self._titles(side)
        for row in range(len(QUOTE_ROWS)):
            for column in (1, 2):
                self.quotes.setItem(row, column, cell(""))
        for column, venue in enumerate(VENUES, start=1):
            header_item(self.quotes, column).setText(venue)
        self.verdict.setText("Type an amount to see both venues' prices.")
        self.decision = None
        self.show_age()

    def show_quote(self, request: OrderRequest, decision: RoutingDecision) -> None:
        """Both venues' figures for `request`, the chosen one starred, and the verdict in words."""
        self._titles(request.direction)
        self.decision = decision
        self._quoted_at = time.monotonic()
        self.show_age()
        spec = self.catalog[request.pair]
        by_venue = {str(quote.venue): quote for quote in decision.quotes}
        for column, venue in enumerate(VENUES, start=1):
            quote = by_venue[venue]
            winner = quote is decision.chosen
            header_item(self.quotes, column).setText(f"★ {venue}" if winner else venue)
            figures = [
                group_decimal(quote.effective_price, spec.price_decimals),
                percent(quote.fee_rate),
                impact_text(quote.price_impact),
                # A total at its token's decimals (cents of USDC), and short: at 370 px the ticket read
                # "6,580,988.1646 U…" and "best by 32.7 b…".
                f"{self.formats.token(spec.quote, worst_total(request, quote.limit_total))} {spec.quote}",
                f"best +{decision.margin_bps} bps" if winner else "",
            ]
            for row, text in enumerate(figures):
                self.quotes.setItem(row, column, cell(text, right=True, color=WINNER_TEXT if winner else None))
        self.verdict.setText(_verdict(request, decision, spec.base, spec.quote))

    def _titles(self, side: Direction) -> None:
        limit_title = "Max spent" if side is Direction.BUY else "Min received"
        for row, title in enumerate([*QUOTE_ROWS[:-2], limit_title, QUOTE_ROWS[-1]]):
            self.quotes.setItem(row, 0, cell(title, color=MUTED_TEXT))


def worst_total(request: OrderRequest, market_total: Decimal) -> Decimal:
    """Max spent / min received: the quote ± slippage for a market order, amount × limit for a limit order."""
    if request.order_type is OrderType.LIMIT and request.limit_price is not None:
        return request.amount * request.limit_price
    return market_total


def _verdict(request: OrderRequest, decision: RoutingDecision, base: str, quote: str) -> str:
    verdict = "is cheaper" if request.direction is Direction.BUY else "pays more"
    venue = str(decision.chosen.venue).capitalize()
    lead = f"{venue} {verdict} by {decision.margin_bps} bps after fees and impact."
    if request.order_type is OrderType.LIMIT and request.limit_price is not None:
        best = decision.chosen.effective_price
        word = "at or below" if request.direction is Direction.BUY else "at or above"
        reached = best <= request.limit_price if request.direction is Direction.BUY else best >= request.limit_price
        state = "fills now" if reached else "waits"
        lead = f"Limit {state}: it triggers when the best price is {word} {request.limit_price}. {lead}"
    return f"{lead} Prices in {quote} per {base}, fees included."


def _quote_table() -> QTableWidget:
    """Venues side by side, as an aggregator shows them: one column per venue, one row per figure."""
    table = read_only_table(["", *VENUES], right=(1, 2))
    table.setRowCount(len(QUOTE_ROWS))
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    table.setAlternatingRowColors(False)
    header = table.horizontalHeader()
    for column in (1, 2):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
    table.setFixedHeight(24 * len(QUOTE_ROWS) + header.sizeHint().height() + 4)
    table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return table
