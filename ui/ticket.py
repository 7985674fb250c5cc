"""The order ticket: pair, side, amount, market or limit, slippage, a live two-venue quote, submit on Enter.

Every keystroke is checked with the engine's own `validate_order`, so the ticket and the engine
can never disagree about what is valid; a bad field shows the rule next to it and the submit
button stays disabled. The quote is what a market order sent now gets (the engine's indicative
quote): it refreshes every second and shows its age, and the order is sent bound to it, so it
lands within the slippage tolerance of "Max spent / Min received" unless the market moves past
that while it waits. "Confirm before sending" shows the final quote and asks, as Hummingbot does.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from engine.domain import Direction, OrderType
from engine.pairs import PairCatalog
from engine.router import RoutingDecision
from engine.validation import InvalidOrder, OrderRequest, validate_order
from ui.formatting import group_decimal, impact_text, percent
from ui.tables import cell, header_item, read_only_table
from ui.theme import MUTED_TEXT, WINNER_TEXT, monospace_font

QuoteSource = Callable[[str, Decimal, Direction, Decimal], RoutingDecision]
QUOTE_REFRESH_MS = 1000

# "1,000" and "12,345.5" as the desk itself prints amounts; a comma anywhere else stays the engine's error.
_GROUPED_AMOUNT = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?")
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
# A rule is said under the field with the field's name as the ticket labels it, not the API's ("limitPrice").
_LABELS = {"pair": "Pair", "amount": "Amount", "limitPrice": "Limit price", "expiresIn": "Expires in"}


def ungrouped(text: str) -> str:
    """An amount typed with the desk's own thousands separators, as the engine reads it."""
    stripped = text.strip()
    return stripped.replace(",", "") if _GROUPED_AMOUNT.fullmatch(stripped) else stripped


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
        self._decision: RoutingDecision | None = None
        self._quoted_at = 0.0

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

        self.order_type = QComboBox()
        self.order_type.addItems(["Market", "Limit"])
        self.order_type.setToolTip("Market: now, at the quote below. Limit: waits until the best price reaches yours")
        self.limit_price = QLineEdit()
        self.limit_price.setFont(monospace_font())
        self.limit_price.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.limit_price.setPlaceholderText("price in QUOTE per BASE")
        self.limit_error = self._error_label()
        self.expires = QLineEdit()
        self.expires.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.expires.setPlaceholderText("never")
        self.expires.setToolTip("Seconds until the limit order gives up (empty: it waits until cancelled)")
        self.slippage = QDoubleSpinBox()
        self.slippage.setRange(0.05, 50.0)
        self.slippage.setSingleStep(0.1)
        self.slippage.setDecimals(2)
        self.slippage.setSuffix(" %")
        self.slippage.setValue(1.0)
        self.slippage.setToolTip("Slippage tolerance: the order fails rather than fill worse than the quote by more")
        self.confirm = QCheckBox("Confirm before sending")
        self.confirm.setToolTip("Show the final quote and ask before the order is sent")
        self.quote_age = QLabel()
        self.quote_age.setObjectName("hint")
        self.submit_error = self._error_label()

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
        form.addRow("Type", self.order_type)
        form.addRow("Limit price", self.limit_price)
        form.addRow("", self.limit_error)
        form.addRow("Expires in (s)", self.expires)
        form.addRow("Slippage", self.slippage)
        self._form = form

        title_row = QHBoxLayout()
        title = QLabel("Quote")
        title.setObjectName("sectionTitle")
        title_row.addWidget(title)
        title_row.addStretch(1)
        title_row.addWidget(self.quote_age)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(title_row)
        layout.addWidget(self.quotes)
        layout.addWidget(self.verdict)
        layout.addWidget(self.confirm)
        layout.addWidget(self.submit_error)
        layout.addWidget(self.submit)
        layout.addStretch(1)

        self._refresh = QTimer(self)
        self._refresh.setInterval(QUOTE_REFRESH_MS)
        self._refresh.timeout.connect(self.refresh_quote)
        self._refresh.start()

        # Typing in the pair box re-validates only once the text names a listed pair (or the box is
        # left): a half-typed "JU" shows no error and moves nothing on the form.
        pair_line, popup = self.pair.lineEdit(), completer.popup()
        assert pair_line is not None
        assert popup is not None
        self.pair_line: QLineEdit = pair_line
        self._completer = completer
        self._popup: QAbstractItemView = popup
        self.pair_line.textEdited.connect(self._pair_typed)
        self.pair.currentIndexChanged.connect(lambda _index: self._changed())
        self.pair_line.editingFinished.connect(self._pair_left)
        completer.activated.connect(self._pair_chosen)
        self._pair_keys = _PairEnterKeys(self)
        self.pair_line.installEventFilter(self._pair_keys)
        popup.installEventFilter(self._pair_keys)
        self.amount.textChanged.connect(self._changed)
        self.order_type.currentIndexChanged.connect(self._changed)
        self.limit_price.textChanged.connect(self._changed)
        self.expires.textChanged.connect(self._changed)
        self.slippage.valueChanged.connect(self._changed)
        self.limit_price.returnPressed.connect(self.try_submit)
        for edited in (self.amount.textChanged, self.pair.currentTextChanged, self.limit_price.textChanged):
            edited.connect(lambda _text: self.show_submit_problem(None))  # a refusal is about what was sent
        self._sides.buttonClicked.connect(
            lambda button: self.set_side(Direction.BUY if button is self.buy else Direction.SELL)
        )
        self.amount.returnPressed.connect(self.try_submit)
        self.expires.returnPressed.connect(self.try_submit)  # Enter submits from every field of the ticket
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

    # -- the pair box --------------------------------------------------------------------

    def _pair_typed(self, text: str) -> None:
        if self.catalog.get(text.strip().upper()) is not None:
            self._changed()
        elif self.submit.isEnabled():
            self.submit.setEnabled(False)  # what is typed is no pair yet: nothing to send

    def _pair_left(self) -> None:
        self._changed()

    def pair_enter(self) -> None:
        """Enter in the pair box: take the completer's match (the highlighted one, or the only one) and
        move to Amount. It never submits: a trader picking a pair has not seen its quote yet."""
        completer, popup = self._completer, self._popup
        text = self.pair.currentText().strip()
        chosen: str | None = None
        if popup.isVisible() and popup.currentIndex().isValid():
            chosen = str(popup.currentIndex().data())
        elif self.catalog.get(text.upper()) is not None:
            chosen = text.upper()
        else:
            completer.setCompletionPrefix(text)
            if text and completer.completionCount() == 1:
                chosen = completer.currentCompletion()
            elif text and completer.completionCount() > 1:
                completer.complete()  # several pairs match: the list stays open for the arrows
                return
        popup.hide()
        if chosen is None:
            self._changed(show_pair_error=True)
            return
        self._pair_chosen(chosen)

    def _pair_chosen(self, name: str) -> None:
        index = self.pair.findText(name, Qt.MatchFlag.MatchFixedString)
        if index >= 0:
            self.pair.setCurrentIndex(index)
        self.pair.setEditText(name)
        self._changed()
        self.amount.setFocus(Qt.FocusReason.OtherFocusReason)
        self.amount.selectAll()

    @property
    def is_limit(self) -> bool:
        return self.order_type.currentIndex() == 1

    def slippage_fraction(self) -> Decimal:
        return (Decimal(repr(self.slippage.value())) / 100).quantize(Decimal("0.0001"))

    def _validate(self) -> OrderRequest | InvalidOrder:
        try:
            return validate_order(
                self.pair.currentText(),
                ungrouped(self.amount.text()),
                str(self._side),
                self.catalog,
                order_type=str(OrderType.LIMIT if self.is_limit else OrderType.MARKET),
                limit_price=self.limit_price.text() if self.is_limit else None,
                expires_in=self.expires.text() if self.is_limit else None,
                slippage=None if self.is_limit else self.slippage_fraction(),
            )
        except InvalidOrder as problem:
            return problem

    def show_submit_problem(self, problem: InvalidOrder | None) -> None:
        """What the engine refused at submit (a shortfall), shown inline above the button."""
        text = str(problem) if problem else ""
        self.submit_error.setText(text)
        self.submit_error.setVisible(bool(text))

    def _changed(self, *, show_pair_error: bool = False) -> None:
        spec = self.catalog.get(self.pair.currentText().strip().upper())
        self.base_label.setText(spec.base if spec else "")
        if spec is not None:
            places = f"{spec.decimals} decimal{'s' if spec.decimals != 1 else ''}" if spec.decimals else "whole units"
            self.limits.setText(f"min {spec.min_amount:,f} · max {spec.max_amount:,f} · {places}")
        else:
            self.limits.setText("")
        limit = self.is_limit
        for widget in (self.limit_price, self.expires):
            widget.setEnabled(limit)
            label = self._form.labelForField(widget)
            if label is not None:
                label.setEnabled(limit)
        self.slippage.setEnabled(not limit)
        result = self._validate()
        typed = bool(self.amount.text().strip())
        if isinstance(result, InvalidOrder):
            # A pair still being typed is not an error yet; leaving the box or Enter shows it.
            pair_settled = show_pair_error or not self.pair_line.hasFocus()
            self._show_errors(result, include_missing_amount=False, include_pair=pair_settled)
            self._show_quote(None)
        else:
            self._show_errors(None)
            self._show_quote(result)
        ready = typed and not isinstance(result, InvalidOrder) and not self._busy
        self.submit.setEnabled(ready)
        side_word = "Buy" if self._side is Direction.BUY else "Sell"
        # Only a valid amount is echoed, as the desk prints it: never "Sell abc SOL".
        amount = self._amount_words(result) if not isinstance(result, InvalidOrder) else ""
        price = self.limit_price.text().strip() if not isinstance(result, InvalidOrder) else ""
        at = f" at {price}" if limit and price else ""
        kind = "Limit " if limit else ""
        text = f"{kind}{side_word} {amount} {spec.base if spec else ''}{at}".replace("  ", " ").strip()
        self.submit.setText(text[0].upper() + text[1:] if text else text)
        self.submit.setObjectName("submitBuy" if self._side is Direction.BUY else "submitSell")
        self.submit.style().unpolish(self.submit)
        self.submit.style().polish(self.submit)

    def _amount_words(self, request: OrderRequest) -> str:
        spec = self.catalog[request.pair]
        places = max(0, -int(request.amount.as_tuple().exponent))
        return group_decimal(request.amount, min(places, spec.decimals))

    def _show_errors(
        self, problem: InvalidOrder | None, *, include_missing_amount: bool = True, include_pair: bool = True
    ) -> None:
        pair_rule = problem.for_field("pair") if problem and include_pair else None
        amount_rule = problem.for_field("amount") if problem else None
        limit_rule = (problem.for_field("limitPrice") or problem.for_field("expiresIn")) if problem else None
        limit_field = "limitPrice" if problem and problem.for_field("limitPrice") else "expiresIn"
        if amount_rule == "is required" and not include_missing_amount:
            amount_rule = None
        if limit_rule == "is required for a limit order" and not include_missing_amount:
            limit_rule = None
        for label, field, rule, editor in (
            (self.pair_error, "pair", pair_rule, self.pair),
            (self.amount_error, "amount", amount_rule, self.amount),
            (self.limit_error, limit_field, limit_rule, self.limit_price),
        ):
            text = f"{_LABELS.get(field, field)}: {rule}" if rule else ""
            if label.text() == text and label.isVisible() == bool(rule):
                continue  # unchanged: no re-polish, no relayout of the form
            label.setText(text)
            label.setVisible(bool(rule))
            editor.setProperty("invalid", bool(rule))
            editor.style().unpolish(editor)
            editor.style().polish(editor)

    def refresh_quote(self) -> None:
        """The market moved (time passed, orders executed): re-quote what is typed, if it is valid."""
        result = self._validate()
        if not isinstance(result, InvalidOrder):
            self._show_quote(result)
        self._show_age()

    def _show_age(self) -> None:
        if self._decision is None:
            self.quote_age.setText("")
            return
        age = max(0.0, time.monotonic() - self._quoted_at)
        self.quote_age.setText(f"quoted {age:.1f} s ago · live")

    @property
    def decision(self) -> RoutingDecision | None:
        """The quote on screen now (None when nothing valid is typed)."""
        return self._decision

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
            self._decision = None
            self._show_age()
            return
        slippage = request.slippage if request.slippage is not None else self.slippage_fraction()
        decision = self._quote(request.pair, request.amount, request.direction, slippage)
        self._decision = decision
        self._quoted_at = time.monotonic()
        self._show_age()
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
                f"{group_decimal(self._worst_total(request, quote.limit_total), spec.price_decimals)} {spec.quote}",
                f"best by {decision.margin_bps} bps" if winner else "",
            ]
            for row, text in enumerate(figures):
                self.quotes.setItem(row, column, cell(text, right=True, color=WINNER_TEXT if winner else None))
        verdict = "is cheaper" if request.direction is Direction.BUY else "pays more"
        venue = str(decision.chosen.venue).capitalize()
        lead = f"{venue} {verdict} by {decision.margin_bps} bps after fees and impact."
        if request.order_type is OrderType.LIMIT and request.limit_price is not None:
            best = decision.chosen.effective_price
            word = "at or below" if request.direction is Direction.BUY else "at or above"
            reached = best <= request.limit_price if request.direction is Direction.BUY else best >= request.limit_price
            state = "fills now" if reached else "waits"
            lead = f"Limit {state}: it triggers when the best price is {word} {request.limit_price}. {lead}"
        self.verdict.setText(f"{lead} Prices in {spec.quote} per {spec.base}, fees included.")

    @staticmethod
    def _worst_total(request: OrderRequest, market_total: Decimal) -> Decimal:
        """Max spent / min received: the quote ± slippage for a market order, amount × limit for a limit order."""
        if request.order_type is OrderType.LIMIT and request.limit_price is not None:
            return request.amount * request.limit_price
        return market_total

    def try_submit(self) -> bool:
        """Enter and the button both land here: submit a valid order, or show every rule it breaks."""
        if self._busy:
            return False
        result = self._validate()
        if isinstance(result, InvalidOrder):
            self._show_errors(result)
            self.submit.setEnabled(False)
            return False
        self._show_quote(result)  # the freshest quote is the one the order is bound to
        decision = self._decision
        if decision is not None and result.order_type is OrderType.MARKET:
            result = replace(result, quoted_price=decision.chosen.effective_price)
        if self.confirm.isChecked():
            self._ask_to_confirm(result, decision)
            return True
        self._send(result)
        return True

    def _send(self, request: OrderRequest) -> None:
        self.show_submit_problem(None)
        self.submit_requested.emit(request)
        self.amount.selectAll()

    def _ask_to_confirm(self, request: OrderRequest, decision: RoutingDecision | None) -> None:
        spec = self.catalog[request.pair]
        lines = [f"{request.direction} {request.amount} {spec.base} on {request.pair}"]
        if request.order_type is OrderType.LIMIT and request.limit_price is not None:
            worst = "Max spent" if request.direction is Direction.BUY else "Min received"
            total = group_decimal(request.amount * request.limit_price, spec.price_decimals)
            lines.append(f"Limit price {request.limit_price} {spec.quote} per {spec.base}")
            lines.append(f"{worst} at the limit: {total} {spec.quote}")
            expiry = f"expires in {request.expires_in_s:g} s" if request.expires_in_s else "waits until cancelled"
            lines.append(f"Waits for its price, {expiry}")
        if decision is not None:
            chosen = decision.chosen
            limit_word = "Max spent" if request.direction is Direction.BUY else "Min received"
            lines.append(f"Route: {chosen.venue} at {group_decimal(chosen.effective_price, spec.price_decimals)}")
            if request.order_type is OrderType.MARKET:
                lines.append(f"{limit_word}: {group_decimal(chosen.limit_total, spec.price_decimals)} {spec.quote}")
                lines.append(f"Slippage tolerance: {self.slippage.value():.2f} %")
        box = QMessageBox(QMessageBox.Icon.Question, "Send this order?", "\n".join(lines), parent=self)
        box.setStandardButtons(QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Ok).setText("Send")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.accepted.connect(lambda: self._send(request))
        self.confirmation = box
        box.open()


class _PairEnterKeys(QObject):
    """Enter in the pair box (or in its completer's list) picks the pair; it never reaches a submit.

    Installed after the completer's own filter, so it sees the key first: QCompleter would
    otherwise complete and then hand the same Enter on to the line edit.
    """

    def __init__(self, ticket: OrderTicket) -> None:
        super().__init__(ticket)
        self.ticket = ticket

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) and event.key() in _ENTER_KEYS:
            self.ticket.pair_enter()
            return True
        return False
