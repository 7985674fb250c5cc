"""The order ticket: pair, side, amount, a live two-venue quote, and submit on Enter.

Every keystroke is checked with the engine's own `validate_order`, so the ticket and the engine
can never disagree about what is valid; a bad field shows the rule next to it and the submit
button stays disabled. The quote is the router's indicative quote for the next order: what the
aggregator would pick right now, and by how many basis points.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QCompleter,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from engine.domain import Direction
from engine.pairs import PairCatalog
from engine.router import RoutingDecision
from engine.validation import InvalidOrder, OrderRequest, validate_order
from ui.formatting import group_decimal, impact_text, percent
from ui.tables import cell, header_item, read_only_table
from ui.theme import MUTED_TEXT, WINNER_TEXT, monospace_font

QuoteSource = Callable[[str, Decimal, Direction], RoutingDecision]

BUY_SHORTCUT = "F2"
SELL_SHORTCUT = "F3"
FOCUS_SHORTCUT = "Ctrl+T"
VENUES = ("raydium", "meteora")
QUOTE_ROWS = ("Price", "Fee", "Price impact", "Max spent", "Route")


class OrderTicket(QWidget):
    """Emits `submit_requested` with a validated request; the window hands it to the engine."""

    submit_requested = Signal(object)

    def __init__(self, catalog: PairCatalog, quote: QuoteSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self._quote = quote
        self._side = Direction.BUY
        self._busy = False

        self.pair = QComboBox()
        self.pair.setEditable(True)
        self.pair.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.pair.addItems(catalog.names)
        completer = QCompleter(catalog.names, self.pair)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.pair.setCompleter(completer)
        self.pair.setToolTip(f"Type to search the listed pairs ({FOCUS_SHORTCUT} focuses the ticket)")
        self.pair_error = self._error_label()

        self.buy = QPushButton("BUY")
        self.buy.setObjectName("sideBuy")
        self.buy.setToolTip(f"Buy the base token ({BUY_SHORTCUT})")
        self.sell = QPushButton("SELL")
        self.sell.setObjectName("sideSell")
        self.sell.setToolTip(f"Sell the base token ({SELL_SHORTCUT})")
        self._sides = QButtonGroup(self)
        for button in (self.buy, self.sell):
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            self._sides.addButton(button)
        self.buy.setChecked(True)

        self.amount = QLineEdit()
        self.amount.setFont(monospace_font())
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.amount.setToolTip("Amount of the base token; Enter submits")
        self.base_label = QLabel()
        self.limits = QLabel()
        self.limits.setObjectName("hint")
        self.amount_error = self._error_label()

        self.quotes = self._quote_table()
        self.verdict = QLabel()
        self.verdict.setObjectName("hint")
        self.verdict.setWordWrap(True)

        self.submit = QPushButton()
        self.submit.setToolTip("Submit the order (Enter)")
        self.submit.setMinimumHeight(34)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Pair", self.pair)
        form.addRow("", self.pair_error)
        sides = QHBoxLayout()
        sides.addWidget(self.buy)
        sides.addWidget(self.sell)
        form.addRow("Side", sides)
        amount_row = QHBoxLayout()
        amount_row.addWidget(self.amount, 1)
        amount_row.addWidget(self.base_label)
        form.addRow("Amount", amount_row)
        form.addRow("", self.limits)
        form.addRow("", self.amount_error)

        title = QLabel("Indicative quote")
        title.setObjectName("sectionTitle")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(title)
        layout.addWidget(self.quotes)
        layout.addWidget(self.verdict)
        layout.addWidget(self.submit)
        layout.addStretch(1)

        self.pair.currentTextChanged.connect(self._changed)
        self.amount.textChanged.connect(self._changed)
        self._sides.buttonClicked.connect(
            lambda button: self.set_side(Direction.BUY if button is self.buy else Direction.SELL)
        )
        self.amount.returnPressed.connect(self.try_submit)
        pair_editor = self.pair.lineEdit()
        assert pair_editor is not None, "the pair box is editable, so it has a line edit"
        pair_editor.returnPressed.connect(self._pair_entered)
        self.submit.clicked.connect(self.try_submit)
        self._changed()

    @staticmethod
    def _error_label() -> QLabel:
        label = QLabel()
        label.setObjectName("fieldError")
        label.setWordWrap(True)
        label.hide()
        return label

    def _quote_table(self) -> QTableWidget:
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

    # -- state ----------------------------------------------------------------------------

    @property
    def side(self) -> Direction:
        return self._side

    def set_side(self, side: Direction) -> None:
        self._side = side
        (self.buy if side is Direction.BUY else self.sell).setChecked(True)
        self._changed()

    def focus_ticket(self) -> None:
        self.amount.setFocus()
        self.amount.selectAll()

    def set_busy(self, busy: bool) -> None:
        """While an order is being stored, a second Enter must not send it twice."""
        self._busy = busy
        self._changed()

    def _pair_entered(self) -> None:
        if self.amount.text().strip():
            self.try_submit()
        else:
            self.amount.setFocus()

    def _validate(self) -> OrderRequest | InvalidOrder:
        try:
            return validate_order(self.pair.currentText(), self.amount.text(), str(self._side), self.catalog)
        except InvalidOrder as problem:
            return problem

    def _changed(self) -> None:
        spec = self.catalog.get(self.pair.currentText().strip().upper())
        self.base_label.setText(spec.base if spec else "")
        if spec is not None:
            places = f"{spec.decimals} decimal{'s' if spec.decimals != 1 else ''}" if spec.decimals else "whole units"
            self.limits.setText(f"min {spec.min_amount:,f} · max {spec.max_amount:,f} · {places}")
        else:
            self.limits.setText("")
        result = self._validate()
        typed = bool(self.amount.text().strip())
        if isinstance(result, InvalidOrder):
            self._show_errors(result, include_missing_amount=False)
            self._show_quote(None)
        else:
            self._show_errors(None)
            self._show_quote(result)
        ready = typed and not isinstance(result, InvalidOrder) and not self._busy
        self.submit.setEnabled(ready)
        side_word = "Buy" if self._side is Direction.BUY else "Sell"
        amount = self.amount.text().strip() if typed else ""
        self.submit.setText(f"{side_word} {amount} {spec.base if spec else ''}".replace("  ", " ").strip())
        self.submit.setObjectName("submitBuy" if self._side is Direction.BUY else "submitSell")
        self.submit.style().unpolish(self.submit)
        self.submit.style().polish(self.submit)

    def _show_errors(self, problem: InvalidOrder | None, *, include_missing_amount: bool = True) -> None:
        pair_rule = problem.for_field("pair") if problem else None
        amount_rule = problem.for_field("amount") if problem else None
        if amount_rule == "is required" and not include_missing_amount:
            amount_rule = None
        for label, field, rule, editor in (
            (self.pair_error, "pair", pair_rule, self.pair),
            (self.amount_error, "amount", amount_rule, self.amount),
        ):
            label.setText(f"{field}: {rule}" if rule else "")
            label.setVisible(bool(rule))
            editor.setProperty("invalid", bool(rule))
            editor.style().unpolish(editor)
            editor.style().polish(editor)

    def refresh_quote(self) -> None:
        """The market moved (orders executed): re-quote what is typed, if it is valid."""
        result = self._validate()
        if not isinstance(result, InvalidOrder):
            self._show_quote(result)

    def _show_quote(self, request: OrderRequest | None) -> None:
        limit_title = "Max spent" if self._side is Direction.BUY else "Min received"
        titles = [*QUOTE_ROWS[:-2], limit_title, QUOTE_ROWS[-1]]
        for row, title in enumerate(titles):
            self.quotes.setItem(row, 0, cell(title, color=MUTED_TEXT))
        if request is None:
            for row in range(len(titles)):
                for column in (1, 2):
                    self.quotes.setItem(row, column, cell(""))
            for column, venue in enumerate(VENUES, start=1):
                header_item(self.quotes, column).setText(venue)
            self.verdict.setText("Type an amount to see both venues' prices.")
            return
        decision = self._quote(request.pair, request.amount, request.direction)
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
                f"{group_decimal(quote.limit_total, spec.price_decimals)} {spec.quote}",
                f"best by {decision.margin_bps} bps" if winner else "",
            ]
            for row, text in enumerate(figures):
                self.quotes.setItem(row, column, cell(text, right=True, color=WINNER_TEXT if winner else None))
        verdict = "is cheaper" if request.direction is Direction.BUY else "pays more"
        self.verdict.setText(
            f"{str(decision.chosen.venue).capitalize()} {verdict} by {decision.margin_bps} bps after fees "
            f"and price impact. Prices in {spec.quote} per {spec.base}, fees included."
        )

    def try_submit(self) -> bool:
        """Enter and the button both land here: submit a valid order, or show every rule it breaks."""
        if self._busy:
            return False
        result = self._validate()
        if isinstance(result, InvalidOrder):
            self._show_errors(result)
            self.submit.setEnabled(False)
            return False
        self.submit_requested.emit(result)
        self.amount.selectAll()
        return True
