"""The order ticket: pair, side, amount, market or limit, slippage, a live two-venue quote, submit on Enter.

Every keystroke is checked with the engine's own `validate_order`, so the ticket and the engine
can never disagree about what is valid; a bad field shows the rule next to it and the submit
button stays disabled. The quote is what a market order sent now gets (the engine's indicative
quote): it refreshes every second and shows its age, and the order is sent bound to it, so it
lands within the slippage tolerance of "Max spent / Min received" unless the market moves past
that while it waits. "Confirm before sending" shows the final quote and asks, as Hummingbot does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from engine.model.domain import Direction, OrderType
from engine.model.validation import InvalidOrder, OrderRequest, validate_order
from engine.trading.pairs import PairCatalog
from engine.trading.router import RoutingDecision
from ui import ticket_words as words
from ui.bridge import EngineBridge
from ui.pair_box import PairBox
from ui.quote_panel import QuotePanel
from ui.theme import monospace_font
from ui.ticket_confirm import confirmation_box, confirmation_lines, through_market
from ui.ticket_funds import FundsRow, TicketAccount

QuoteSource = Callable[[str, Decimal, Direction, Decimal], RoutingDecision]
QUOTE_REFRESH_MS = 1000

BUY_SHORTCUT = "F2"
SELL_SHORTCUT = "F3"
FOCUS_SHORTCUT = "Ctrl+T"


class OrderTicket(QWidget):
    """Emits `submit_requested` with a validated request; the window hands it to the engine."""

    submit_requested = Signal(object)

    def __init__(self, catalog: PairCatalog, quote: QuoteSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self._quote = quote
        self._side = Direction.BUY
        self._busy = False
        self.limit_warning_pct = 5.0  # a limit this far through the market asks first (Settings); 0: never
        self._build_pair_and_side()
        self._build_amount_and_terms()
        self.account = TicketAccount(self)
        self.confirm = QCheckBox("Confirm before sending")
        self.confirm.setToolTip("Show the final quote and ask before the order is sent")
        self.quote_panel = QuotePanel(catalog)
        self.submit_error = self._error_label()
        self.submit = QPushButton()
        self.submit.setToolTip("Submit the order (Enter)")
        self.submit.setMinimumHeight(34)
        self._lay_out()
        self._refresh = QTimer(self)
        self._refresh.setInterval(QUOTE_REFRESH_MS)
        self._refresh.timeout.connect(self.refresh_quote)
        self._refresh.start()
        self._watch_pair_box()
        self._connect()
        self._changed()

    def _build_pair_and_side(self) -> None:
        self.pair = QComboBox()
        self.pair.setEditable(True)
        self.pair.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.pair.addItems(self.catalog.names)
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

    def _build_amount_and_terms(self) -> None:
        self.amount = QLineEdit()
        self.amount.setFont(monospace_font())
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.amount.setToolTip("Amount of the base token; Enter submits")
        self.base_label = QLabel()
        self.limits = QLabel()
        self.limits.setObjectName("hint")
        self.funds = FundsRow()
        self.funds.hide()
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

    def _lay_out(self) -> None:
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
        form.addRow("", self.funds)
        form.addRow("", self.amount_error)
        form.addRow("Type", self.order_type)
        form.addRow("Limit price", self.limit_price)
        form.addRow("", self.limit_error)
        form.addRow("Expires in (s)", self.expires)
        form.addRow("Slippage", self.slippage)
        self._form = form
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.quote_panel)
        layout.addWidget(self.confirm)
        layout.addWidget(self.submit_error)
        layout.addWidget(self.submit)
        layout.addStretch(1)

    def _watch_pair_box(self) -> None:
        self.pair_box = PairBox(
            self.pair, self.catalog, self.submit, changed=self._pair_changed, chosen=self.focus_ticket
        )
        self.pair_line: QLineEdit = self.pair_box.line
        self._popup: QAbstractItemView = self.pair_box.popup

    def _pair_changed(self, show_error: bool) -> None:
        self._changed(show_pair_error=show_error)

    def _connect(self) -> None:
        for changed in (
            self.amount.textChanged,
            self.order_type.currentIndexChanged,
            self.limit_price.textChanged,
            self.expires.textChanged,
            self.slippage.valueChanged,
        ):
            changed.connect(lambda *_args: self._changed())
        for edited in (self.amount.textChanged, self.pair.currentTextChanged, self.limit_price.textChanged):
            edited.connect(lambda _text: self.show_submit_problem(None))  # a refusal is about what was sent
        self._sides.buttonClicked.connect(
            lambda button: self.set_side(Direction.BUY if button is self.buy else Direction.SELL)
        )
        # Enter submits from every field of the ticket but the pair box (which picks a pair).
        for field in (self.amount, self.limit_price, self.expires):
            field.returnPressed.connect(self.try_submit)
        self.submit.clicked.connect(self.try_submit)
        self.funds.max.clicked.connect(lambda: self.fill_share(Decimal(1)))
        self.funds.half.clicked.connect(lambda: self.fill_share(Decimal("0.5")))

    # Kept where tests and the window look for them: the quote panel's parts.
    @property
    def quotes(self) -> QTableWidget:
        table: QTableWidget = self.quote_panel.quotes
        return table

    @property
    def verdict(self) -> QLabel:
        label: QLabel = self.quote_panel.verdict
        return label

    @property
    def quote_age(self) -> QLabel:
        label: QLabel = self.quote_panel.quote_age
        return label

    @staticmethod
    def _error_label() -> QLabel:
        label = QLabel()
        label.setObjectName("fieldError")
        label.setWordWrap(True)
        label.hide()
        return label

    def follow(self, bridge: EngineBridge) -> None:
        """Subscribe to the engine's updates: executions move the market, so the quote is asked again."""
        bridge.orders_changed.connect(lambda _batch: self.refresh_quote())

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

    def pair_enter(self) -> None:
        self.pair_box.enter()

    @property
    def is_limit(self) -> bool:
        return self.order_type.currentIndex() == 1

    def slippage_fraction(self) -> Decimal:
        return (Decimal(repr(self.slippage.value())) / 100).quantize(Decimal("0.0001"))

    def _validate(self) -> OrderRequest | InvalidOrder:
        try:
            return validate_order(
                self.pair.currentText(),
                words.ungrouped(self.amount.text()),
                str(self._side),
                self.catalog,
                order_type=str(OrderType.LIMIT if self.is_limit else OrderType.MARKET),
                limit_price=self.limit_price.text() if self.is_limit else None,
                expires_in=self.expires.text() if self.is_limit else None,
                slippage=None if self.is_limit else self.slippage_fraction(),
            )
        except InvalidOrder as problem:
            return problem.with_traceback(None)  # its frames hold the callers' (a whole bridge batch) in a cycle

    def show_submit_problem(self, problem: InvalidOrder | None) -> None:
        """What the engine refused at submit (a shortfall), shown inline above the button."""
        if problem is None and self.submit_error.property("cover"):
            return  # the account's shortfall is the cover check's to clear (see _show_cover)
        text = words.problem_line(problem)
        self.submit_error.setText(text)
        self.submit_error.setVisible(bool(text))

    def _changed(self, *, show_pair_error: bool = False) -> None:
        spec = self.catalog.get(self.pair.currentText().strip().upper())
        self.base_label.setText(spec.base if spec else "")
        if spec is not None:  # the pair's own words, not the placeholder "QUOTE per BASE"
            self.limit_price.setPlaceholderText(f"price in {spec.quote} per {spec.base}")
            self.limits.setText(words.size_hint(spec))
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
        self.account.show_funds(spec)
        ready = typed and not isinstance(result, InvalidOrder) and not self._busy
        self.submit.setEnabled(ready)
        self.account.show_cover(None if isinstance(result, InvalidOrder) or not typed else result)
        # Only a valid amount is echoed, as the desk prints it: never "Sell abc SOL".
        amount = words.amount_words(result, self.catalog[result.pair]) if not isinstance(result, InvalidOrder) else ""
        price = self.limit_price.text().strip() if not isinstance(result, InvalidOrder) else ""
        base = spec.base if spec else ""
        self.submit.setText(words.submit_words(self._side, amount=amount, base=base, limit=limit, price=price))
        self.submit.setObjectName("submitBuy" if self._side is Direction.BUY else "submitSell")
        self.submit.style().unpolish(self.submit)
        self.submit.style().polish(self.submit)

    def _show_errors(
        self, problem: InvalidOrder | None, *, include_missing_amount: bool = True, include_pair: bool = True
    ) -> None:
        rules = words.field_rules(problem, include_missing_amount=include_missing_amount, include_pair=include_pair)
        labels = (self.pair_error, self.amount_error, self.limit_error)
        editors = (self.pair, self.amount, self.limit_price)
        for label, (field, rule), editor in zip(labels, rules, editors, strict=True):
            text = words.rule_line(field, rule)
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
            self.account.show_cover(result)
        self.quote_panel.show_age()

    @property
    def decision(self) -> RoutingDecision | None:
        """The quote on screen now (None when nothing valid is typed)."""
        decision: RoutingDecision | None = self.quote_panel.decision
        return decision

    def _show_quote(self, request: OrderRequest | None) -> None:
        if request is None:
            self.quote_panel.clear(self._side)
            return
        slippage = request.slippage if request.slippage is not None else self.slippage_fraction()
        self.quote_panel.show_quote(request, self._quote(request.pair, request.amount, request.direction, slippage))

    # -- the account (ui/ticket_funds.py) -------------------------------------------------

    def set_balances(self, balances: dict[str, Decimal] | None) -> None:
        """The paper account's available balances (None: no account, nothing is limited)."""
        self.account.balances = balances
        self._changed()

    def fill_share(self, share: Decimal) -> None:
        self.account.fill_share(share)

    def quote_for(self, pair: str, amount: Decimal, side: Direction, slippage: Decimal) -> RoutingDecision:
        """The router's indicative quote (what the ticket shows and Max sizes against)."""
        return self._quote(pair, amount, side, slippage)

    # -- sending --------------------------------------------------------------------------

    def try_submit(self) -> bool:
        """Enter and the button both land here: submit a valid, covered order, or show what stops it."""
        if self._busy:
            return False
        result = self._validate()
        if isinstance(result, InvalidOrder):
            self._show_errors(result)
            self.submit.setEnabled(False)
            return False
        self._show_quote(result)  # the freshest quote is the one the order is bound to
        self.account.show_cover(result)
        if self.account.cover is not None and not self.account.cover.covered:
            return False
        decision = self.decision
        if decision is not None and result.order_type is OrderType.MARKET:
            result = replace(result, quoted_price=decision.chosen.effective_price)
        through = through_market(result, decision, self.limit_warning_pct)
        if self.confirm.isChecked() or through is not None:
            self._ask_to_confirm(result, decision, through)
            return True
        self._send(result)
        return True

    def _send(self, request: OrderRequest) -> None:
        self.show_submit_problem(None)
        self.submit_requested.emit(request)
        self.amount.selectAll()

    def _ask_to_confirm(
        self, request: OrderRequest, decision: RoutingDecision | None, through: Decimal | None = None
    ) -> None:
        spec = self.catalog[request.pair]
        amount, slippage = words.amount_words(request, spec), self.slippage.value()
        lines = confirmation_lines(request, spec, decision, amount=amount, slippage_pct=slippage, through=through)
        box = confirmation_box(self, lines, warning=through is not None)
        box.accepted.connect(lambda: self._send(request))
        self.confirmation = box
        box.open()
