"""The detail view's Quotes: both venues' quotes of one attempt, the route chosen and why.

Split out of the dialog (ui/dialogs/detail.py) so the dialog builds and lays out, and this panel
renders a routing decision: single venue, a split across venues, or two hops through a listed token.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QHeaderView, QLabel, QVBoxLayout, QWidget

from engine.model.domain import Direction, Order, Venue
from engine.trading.pairs import PairCatalog
from ui.formatting import PairFormats, group_decimal, impact_text, percent
from ui.tables import cell, header_item, read_only_table, section_title
from ui.theme import MUTED_TEXT, WINNER_TEXT


class QuotesPanel(QWidget):
    """The quotes table with its attempt picker and the verdict under it."""

    def __init__(self, catalog: PairCatalog, on_pick: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self._formats = PairFormats(catalog)
        self.decisions: dict[int, Any] = {}
        self.table = read_only_table(["", *(str(venue) for venue in Venue)], right=(1, 2))
        for column in (1, 2):
            self.table.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self.attempt = QComboBox()
        self.attempt.currentIndexChanged.connect(lambda: on_pick())
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        title = QHBoxLayout()
        title.addWidget(section_title("Quotes"))
        title.addStretch(1)
        title.addWidget(self.attempt)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(title)
        box.addWidget(self.table)
        box.addWidget(self.verdict)

    def set_attempts(self, decisions: dict[int, Any]) -> None:
        """The attempts that were routed, newest picked; the picker shows only when there are several."""
        self.decisions = decisions
        labels = [f"attempt {number}" for number in decisions]
        current = [self.attempt.itemText(number) for number in range(self.attempt.count())]
        if labels != current:
            self.attempt.blockSignals(True)
            self.attempt.clear()
            self.attempt.addItems(labels)
            self.attempt.setCurrentIndex(len(labels) - 1)
            self.attempt.blockSignals(False)
        self.attempt.setVisible(len(labels) > 1)

    def show_decision(self, order: Order) -> None:
        """Show the chosen attempt's quotes for `order` (the attempts' routing decisions are set first)."""
        text = self.attempt.currentText()
        decision = self.decisions.get(int(text.split()[-1])) if text else None
        if decision is None:
            self.table.setRowCount(0)
            self.verdict.setText("No quotes yet: the order has not been routed.")
            return
        by_venue = {quote["venue"]: quote for quote in decision["quotes"]}
        venues = [header_item(self.table, column).text() for column in (1, 2)]
        buying = order.direction is Direction.BUY
        places = self._formats.price_places(order.pair)
        spec = self.catalog.get(order.pair)
        quote_token = spec.quote if spec else ""
        limit_key, limit_title = ("maxSpent", "Max spent") if buying else ("minReceived", "Min received")
        bound = order.terms.price_bound
        # The order's own bound (its limit, or its sent quote widened by its slippage) is what the
        # swap was held to, whichever venue won; a quote's own +tolerance figure is not.
        bound_total = group_decimal(order.amount * bound, places) if bound is not None else None
        rows: list[tuple[str, Any]] = [
            ("Pool price", lambda quote: group_decimal(Decimal(str(quote["poolPrice"])), places)),
            ("Fee", lambda quote: percent(Decimal(str(quote["feeRate"])))),
            ("Price impact", lambda quote: impact_text(Decimal(str(quote["priceImpact"])))),
            ("Effective price", lambda quote: group_decimal(Decimal(str(quote["effectivePrice"])), places)),
            (
                limit_title,
                lambda quote: f"{bound_total or group_decimal(Decimal(str(quote[limit_key])), places)} {quote_token}",
            ),
        ]
        # Two hops: the columns are the single-venue routes the chosen one (each hop's better venue) beat.
        starred = None if isinstance(decision.get("twoHop"), dict) else decision["chosen"]
        self.table.setRowCount(len(rows) + 1)
        for row, (title, render) in enumerate(rows):
            self.table.setItem(row, 0, cell(title, color=MUTED_TEXT))
            for column, venue in enumerate(venues, start=1):
                quote = by_venue.get(venue)
                chosen = venue == starred
                text_value = render(quote) if quote else "—"
                self.table.setItem(row, column, cell(text_value, right=True, color=WINNER_TEXT if chosen else None))
        verdict_row = len(rows)
        self.table.setItem(verdict_row, 0, cell("Route", color=MUTED_TEXT))
        for column, venue in enumerate(venues, start=1):
            chosen = venue == starred
            self.table.setItem(
                verdict_row,
                column,
                cell(f"★ +{decision['marginBps']} bps" if chosen else "", right=True, color=WINNER_TEXT),
            )
        better = "lower" if buying else "higher"
        two_hop = decision.get("twoHop")
        if isinstance(two_hop, dict):
            self.verdict.setText(
                self._formats.amounts_in(_two_hop_verdict(two_hop, decision, better, places, quote_token))
            )
            return
        split = decision.get("split")
        if isinstance(split, dict):
            legs = " + ".join(
                f"{leg['venue']} {leg['amount']} at {group_decimal(Decimal(str(leg['effectivePrice'])), places)}"
                for leg in split.get("legs", [])
            )
            average = group_decimal(Decimal(str(split["effectivePrice"])), places)
            self.verdict.setText(
                f"Split {legs}: average {average}, {better} than the better single venue by "
                f"{decision['marginBps']} bps after fees and impact (sizes equalise both pools' marginal prices)."
            )
            return
        self.verdict.setText(
            f"{decision['chosen']} chosen: effective price {better} by {decision['marginBps']} bps "
            "after fees and impact."
        )


def _two_hop_verdict(two_hop: dict[str, Any], decision: dict[str, Any], better: str, places: int, token: str) -> str:
    """Each hop as quoted (venue, amounts, its pair's price, fee, impact) and why this route.

    The two columns above are the routes that keep one venue on both hops; the chosen route
    takes each hop's better venue, so it is measured against the better of those two."""
    hops = "; then ".join(
        f"{hop['venue']} {token_amount(Decimal(str(hop['amountIn'])))} {hop['tokenIn']} → "
        f"{token_amount(Decimal(str(hop['amountOut'])))} {hop['tokenOut']} on {hop['pair']} at "
        f"{hop['price']} (fee {percent(Decimal(str(hop['feeRate'])))}, "
        f"impact {impact_text(Decimal(str(hop['priceImpact'])))})"
        for hop in two_hop.get("hops", [])
    )
    average = group_decimal(Decimal(str(two_hop["effectivePrice"])), places)
    return (
        f"Two hops via {two_hop['via']} (no listed pair trades these tokens): {hops}. Average {average} {token}, "
        f"{better} than keeping one venue on both hops (the columns above) by {decision['marginBps']} bps."
    )


def token_amount(value: Decimal) -> str:
    """A hop's amount as the route computed it (12 places at most), grouped, without trailing zeros."""
    return f"{value.normalize():,f}"
