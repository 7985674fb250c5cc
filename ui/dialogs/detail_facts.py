"""The detail view's facts: what the order is, what it agreed to, where and at what price it traded.

Split out of the dialog (ui/dialogs/detail.py) so the dialog lays out and keeps itself live, and this
grid says every fact of one snapshot: its terms (type, limit, expiry, the worst price it accepts),
its route (one venue, a split's parts, or two hops in the order the tokens flow), the prices and the
money moved. Slippage has one definition everywhere: against the price the order was sent at
(engine/model/execution_figures.py), the same number as the CSV.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton

from engine.model.domain import Direction, Order, OrderType
from engine.model.execution_figures import notional, order_fee, order_slippage_bps, sent_price, slippage_words
from engine.model.outcomes import is_neutral_end
from ui.dialogs.detail_quotes import token_amount
from ui.formatting import PairFormats, group_decimal, impact_text, local_timestamp
from ui.theme import ERROR_TEXT, MUTED_TEXT, WINNER_TEXT, monospace_font

# The facts shown two to a row, then those that get a whole line (the error wraps, the hash is never elided).
PAIRED_FACTS = (
    "Order id",
    "Type",
    "Limit price",
    "Expires at",
    "Bound",
    "Venue",
    "Execution price",
    "Sent at",
    "Slippage",
    "Attempts",
    "Notional",
    "Fee",
    "Created",
    "Updated",
)
WHOLE_LINE_FACTS = ("Error", "Tx hash")


class OrderFacts(QGridLayout):
    """The order's facts two to a row; the error and the full hash get a line each, with Copy beside."""

    def __init__(self, formats: PairFormats, copy_id: Callable[[], None], copy_hash: Callable[[], None]) -> None:
        super().__init__()
        self._formats = formats
        self.values: dict[str, QLabel] = {}
        self.setHorizontalSpacing(14)
        for number, name in enumerate([*PAIRED_FACTS, *WHOLE_LINE_FACTS]):
            caption = QLabel(name)
            caption.setStyleSheet(f"color: {MUTED_TEXT.name()};")
            value = QLabel()
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setFont(monospace_font())
            value.setWordWrap(name == "Error")
            self.values[name] = value
            if number < len(PAIRED_FACTS):
                row, pair_column = divmod(number, 2)
                self.addWidget(caption, row, pair_column * 3)
                self.addWidget(value, row, pair_column * 3 + 1)
            else:  # long values get a whole line: the full hash, never an elided one
                row = len(PAIRED_FACTS) // 2 + number - len(PAIRED_FACTS)
                self.addWidget(caption, row, 0)
                self.addWidget(value, row, 1, 1, 4)
        self.copy_hash = QPushButton("Copy")
        self.copy_hash.setToolTip("Copy the full transaction hash")
        self.copy_hash.clicked.connect(copy_hash)
        self.copy_id = QPushButton("Copy")
        self.copy_id.setToolTip("Copy the full order id")
        self.copy_id.clicked.connect(copy_id)
        self.addWidget(self.copy_id, 0, 2)
        self.addWidget(self.copy_hash, len(PAIRED_FACTS) // 2 + 1, 5)
        self.setColumnStretch(1, 1)
        self.setColumnStretch(4, 1)

    def show(self, order: Order, quote_token: str) -> None:
        """Every fact of this snapshot."""
        facts, formats = self.values, self._formats
        facts["Order id"].setText(order.id)
        self._show_terms(order, quote_token)
        self._show_route(order)
        executed = order.execution_price if order.tx_hash else None
        price = formats.price(order.pair, executed)
        facts["Execution price"].setText(f"{price} {quote_token}" if price else "—")
        sent_text = formats.price(order.pair, sent_price(order))
        facts["Sent at"].setText(f"{sent_text} {quote_token}" if sent_text else "—")
        facts["Sent at"].setToolTip("The price the order was sent at: the quote it was sent from, or its limit")
        slip = order_slippage_bps(order) if executed is not None else None
        facts["Slippage"].setText(slippage_words(slip) or "—")
        facts["Slippage"].setToolTip("Executed against the price it was sent at; the same number as the CSV")
        facts["Slippage"].setStyleSheet(
            f"color: {ERROR_TEXT.name()};" if slip and slip > 0 else f"color: {WINNER_TEXT.name()};" if slip else ""
        )
        moved = notional(order.amount, executed)
        fee = order_fee(order) if moved is not None else None
        facts["Notional"].setText(f"{group_decimal(moved, 2)} {quote_token}" if moved is not None else "—")
        facts["Fee"].setText(f"{group_decimal(fee, 4)} {quote_token}" if fee is not None else "—")
        facts["Tx hash"].setText(order.tx_hash or "—")
        facts["Tx hash"].setToolTip(order.tx_hash or "")
        self.copy_hash.setEnabled(bool(order.tx_hash))
        facts["Attempts"].setText(str(order.attempts))
        facts["Error"].setText(order.error or "—")
        # Expired or cancelled is its own outcome, grey, not a failure's red.
        failed = order.error and not is_neutral_end(order)
        facts["Error"].setStyleSheet(f"color: {ERROR_TEXT.name()};" if failed else "")
        facts["Created"].setText(local_timestamp(order.created_at))
        facts["Updated"].setText(local_timestamp(order.updated_at))

    def _show_terms(self, order: Order, quote_token: str) -> None:
        """What the trader agreed to: the order's type, its limit and expiry, and the worst price it accepts."""
        facts, formats = self.values, self._formats
        terms = order.terms
        facts["Type"].setText("limit" if terms.type is OrderType.LIMIT else "market")
        limit_text = formats.price(order.pair, terms.limit_price)
        facts["Limit price"].setText(f"{limit_text} {quote_token}" if limit_text else "—")
        facts["Expires at"].setText(local_timestamp(terms.expires_at) if terms.expires_at else "—")
        bound = terms.price_bound
        if bound is None:
            facts["Bound"].setText("—")
            facts["Bound"].setToolTip("")
            return
        word = "pays at most" if order.direction is Direction.BUY else "receives at least"
        facts["Bound"].setText(f"{word} {formats.price(order.pair, bound)} {quote_token}")
        facts["Bound"].setToolTip(
            "The worst execution price this order accepts: its limit"
            if terms.type is OrderType.LIMIT
            else "The worst execution price this order accepts: the quote it was sent from, widened by its slippage"
        )

    def _show_route(self, order: Order) -> None:
        """Where it traded: one venue, a split's parts at their prices, or two hops as the tokens flowed."""
        venue, formats = self.values["Venue"], self._formats
        legs = order.route.legs if order.route is not None else ()
        hops = order.route.hops if order.route is not None else ()
        venue.setToolTip("")
        if hops:  # each amount at its token's decimals (the route's 12 places are in the log)
            venue.setText(
                formats.amounts_in(
                    " then ".join(
                        f"{hop.venue} {token_amount(hop.amount_in)} {hop.token_in} → "
                        f"{token_amount(hop.amount_out)} {hop.token_out}"
                        for hop in hops
                    )
                )
            )
            venue.setToolTip(
                "\n".join(
                    f"{hop.pair} on {hop.venue}: price {hop.price}, fee {hop.fee}, "
                    f"impact {impact_text(hop.price_impact)} ({'as landed' if hop.executed else 'as quoted'})"
                    for hop in hops
                )
            )
        elif legs:  # a split: each venue's part, at its executed price once landed (else its quote)
            venue.setText(
                " + ".join(
                    f"{leg.venue} {formats.amount(order.pair, leg.amount)}"
                    f" at {formats.price(order.pair, leg.executed_price or leg.quoted_price)}"
                    for leg in legs
                )
            )
        else:
            venue.setText(str(order.dex) if order.dex else "—")
