"""An order's timeline: states with time spent, both venues' quotes, every attempt, the full log.

The dialog stays live: the window forwards each coalesced batch, and a running order's time in
its current state ticks. It starts from the board's snapshot (which has no log) and fills in
from storage; whichever snapshot knows more of the log wins, so a late read never rolls it back.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from engine.model.domain import Direction, Order, OrderStatus, OrderType
from engine.model.execution_figures import (
    notional,
    order_fee,
    order_slippage_bps,
    sent_price,
    slippage_bps,
    slippage_words,
)
from engine.model.outcomes import Outcome, is_neutral_end, outcome
from engine.trading.pairs import PairCatalog
from ui.dialogs.detail_quotes import QuotesPanel, token_amount
from ui.dialogs.order_story import attempts, state_spans
from ui.formatting import (
    PairFormats,
    clock_time,
    duration,
    group_decimal,
    impact_text,
    local_timestamp,
    seconds_between,
)
from ui.tables import cell, read_only_table, section_title
from ui.theme import (
    ERROR_TEXT,
    MUTED_TEXT,
    NEUTRAL_END_COLOR,
    SIDE_COLORS,
    STATUS_COLORS,
    WINNER_TEXT,
    monospace_font,
)

CANCELLABLE = (OrderStatus.PENDING, OrderStatus.ROUTING, OrderStatus.BUILDING)
CANCELLED_NOTE = "Cancelled: no swap was sent"
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


def default_size(widget: QWidget) -> tuple[int, int]:
    """Wide enough for a full signature and the attempts' errors; never larger than the screen."""
    screen = widget.screen().availableGeometry()
    return min(1240, screen.width() - 40), min(860, screen.height() - 40)


def wrapping(table: QTableWidget) -> QTableWidget:
    """Long notes and errors wrap onto a second line instead of being cut off with an ellipsis."""
    table.setWordWrap(True)
    table.setTextElideMode(Qt.TextElideMode.ElideNone)
    return table


class OrderDetail(QDialog):
    cancel_requested = Signal(str)

    def __init__(self, order: Order, catalog: PairCatalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cancelling = False
        self.order = order
        self.catalog = catalog
        self._formats = PairFormats(catalog)
        self.setWindowTitle(f"Order {order.id[:8]} — {order.direction} {order.amount} {order.pair}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(*default_size(self))

        layout = QVBoxLayout(self)
        layout.addLayout(self._header())
        layout.addLayout(self._facts_grid())
        self._tables(layout)
        self._tick = QTimer(self)
        self._tick.setInterval(500)
        self._tick.timeout.connect(self._render_timeline)
        self.update_order(order)

    # -- building -------------------------------------------------------------------------

    def _header(self) -> QHBoxLayout:
        """The order in words, its status chip, and Cancel with a note on whether it still can be."""
        self.headline = QLabel()
        font = self.headline.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.headline.setFont(font)
        self.status_chip = QLabel()
        self.status_chip.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status_chip.setMinimumWidth(110)
        top = QHBoxLayout()
        top.addWidget(self.headline)
        top.addSpacing(12)
        top.addWidget(self.status_chip)
        top.addStretch(1)
        self.cancel_button = QPushButton("Cancel order")
        self.cancel_button.setToolTip(
            "Cancel this order if its swap has not been sent yet (queued, backing off, routing or building). "
            "A SUBMITTED swap cannot be recalled."
        )
        self.cancel_button.clicked.connect(self._ask_cancel)
        self.cancel_note = QLabel()
        self.cancel_note.setObjectName("hint")
        top.addWidget(self.cancel_note)
        top.addWidget(self.cancel_button)
        return top

    def _facts_grid(self) -> QGridLayout:
        """The order's facts two to a row; the error and the full hash get a line each."""
        self.facts: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        for number, name in enumerate([*PAIRED_FACTS, *WHOLE_LINE_FACTS]):
            caption = QLabel(name)
            caption.setStyleSheet(f"color: {MUTED_TEXT.name()};")
            value = QLabel()
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setFont(monospace_font())
            value.setWordWrap(name == "Error")
            self.facts[name] = value
            if number < len(PAIRED_FACTS):
                row, pair_column = divmod(number, 2)
                grid.addWidget(caption, row, pair_column * 3)
                grid.addWidget(value, row, pair_column * 3 + 1)
            else:  # long values get a whole line: the full hash, never an elided one
                row = len(PAIRED_FACTS) // 2 + number - len(PAIRED_FACTS)
                grid.addWidget(caption, row, 0)
                grid.addWidget(value, row, 1, 1, 4)
        self.copy_hash = QPushButton("Copy")
        self.copy_hash.setToolTip("Copy the full transaction hash")
        self.copy_hash.clicked.connect(self._copy_hash)
        self.copy_id = QPushButton("Copy")
        self.copy_id.setToolTip("Copy the full order id")
        self.copy_id.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.order.id))
        grid.addWidget(self.copy_id, 0, 2)
        grid.addWidget(self.copy_hash, len(PAIRED_FACTS) // 2 + 1, 5)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(4, 1)
        return grid

    def _tables(self, layout: QVBoxLayout) -> None:
        """Timeline beside Quotes, then the attempts with their signatures, then the whole log."""
        self.timeline = wrapping(read_only_table(["State", "Entered", "Time in state", "What happened"], right=(2,)))
        self.quote_panel = QuotesPanel(self.catalog, self._render_quotes)
        self.quotes, self.quote_attempt, self.quote_verdict = (
            self.quote_panel.table,
            self.quote_panel.attempt,
            self.quote_panel.verdict,
        )
        self.attempt_table = wrapping(
            read_only_table(
                ["#", "Started", "Venue", "Route quote", "Executed", "vs route quote", "Outcome", "Back-off", "Error"],
                right=(0, 3, 4, 5, 7),
            )
        )
        # At most three attempts: their table keeps its size and the timeline and log get the rest.
        self.attempt_table.setFixedHeight(self.attempt_table.horizontalHeader().sizeHint().height() + 3 * 24 + 6)
        self.signatures = QLabel()
        self.signatures.setFont(monospace_font())
        self.signatures.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.signatures.setToolTip("Each attempt's full transaction signature, for looking it up on the chain")
        self.log_table = wrapping(read_only_table(["Time", "State", "Message"]))
        middle = QHBoxLayout()
        timeline_box = QVBoxLayout()
        timeline_box.addWidget(section_title("Timeline"))
        timeline_box.addWidget(self.timeline)
        middle.addLayout(timeline_box, 3)
        middle.addWidget(self.quote_panel, 2)
        layout.addLayout(middle, 4)
        layout.addWidget(section_title("Attempts"))
        layout.addWidget(self.attempt_table)
        layout.addWidget(self.signatures)
        layout.addWidget(section_title("Log"))
        layout.addWidget(self.log_table, 3)

    # -- updates --------------------------------------------------------------------------

    def update_order(self, order: Order) -> None:
        """Show a newer snapshot; one that knows less of the log (a board row, a late read) is ignored."""
        if order.id != self.order.id:
            return
        if len(order.logs) < len(self.order.logs):
            return
        self.order = order
        self._render()

    def _render(self) -> None:
        order = self.order
        formats = self._formats
        spec = self.catalog.get(order.pair)
        base = spec.base if spec else ""
        side_color = SIDE_COLORS[order.direction].name()
        self.headline.setText(
            f"<span style='color:{side_color}'>{order.direction}</span> "
            f"{formats.amount(order.pair, order.amount)} {base} "
            f"<span style='color:{MUTED_TEXT.name()}'>on</span> {order.pair}"
        )
        neutral = is_neutral_end(order)  # expired or cancelled: its own outcome, grey, not a failure's red
        color = (NEUTRAL_END_COLOR if neutral else STATUS_COLORS[order.status]).name()
        self.status_chip.setText("EXPIRED" if outcome(order) is Outcome.EXPIRED else str(order.status))
        self.status_chip.setStyleSheet(
            f"background:{color}; color:white; font-weight:700; border-radius:10px; padding:3px 12px;"
        )
        quote_token = spec.quote if spec else ""
        self.facts["Order id"].setText(order.id)
        self._render_terms(quote_token)
        legs = order.route.legs if order.route is not None else ()
        hops = order.route.hops if order.route is not None else ()
        if hops:  # two hops: each venue in the order the tokens flow, with what went in and came out
            self.facts["Venue"].setText(
                formats.amounts_in(  # each amount at its token's decimals (the route's 12 are in the log)
                    " then ".join(
                        f"{hop.venue} {token_amount(hop.amount_in)} {hop.token_in} → "
                        f"{token_amount(hop.amount_out)} {hop.token_out}"
                        for hop in hops
                    )
                )
            )
            self.facts["Venue"].setToolTip(
                "\n".join(
                    f"{hop.pair} on {hop.venue}: price {hop.price}, fee {hop.fee}, "
                    f"impact {impact_text(hop.price_impact)} ({'as landed' if hop.executed else 'as quoted'})"
                    for hop in hops
                )
            )
        elif legs:  # a split: each venue's part, at its executed price once landed (else its quote)
            self.facts["Venue"].setText(
                " + ".join(
                    f"{leg.venue} {formats.amount(order.pair, leg.amount)}"
                    f" at {formats.price(order.pair, leg.executed_price or leg.quoted_price)}"
                    for leg in legs
                )
            )
        else:
            self.facts["Venue"].setText(str(order.dex) if order.dex else "—")
        executed = order.execution_price if order.tx_hash else None
        # Slippage has one definition everywhere: against the price the order was sent at (its
        # quote, or its limit), which is what its bound is built on (engine/model/execution_figures.py).
        sent = sent_price(order)
        price = formats.price(order.pair, executed)
        self.facts["Execution price"].setText(f"{price} {quote_token}" if price else "—")
        sent_text = formats.price(order.pair, sent)
        self.facts["Sent at"].setText(f"{sent_text} {quote_token}" if sent_text else "—")
        self.facts["Sent at"].setToolTip("The price the order was sent at: the quote it was sent from, or its limit")
        slip = order_slippage_bps(order) if executed is not None else None
        self.facts["Slippage"].setText(slippage_words(slip) or "—")
        self.facts["Slippage"].setToolTip("Executed against the price it was sent at; the same number as the CSV")
        self.facts["Slippage"].setStyleSheet(
            f"color: {ERROR_TEXT.name()};" if slip and slip > 0 else f"color: {WINNER_TEXT.name()};" if slip else ""
        )
        moved = notional(order.amount, executed)
        fee = order_fee(order) if moved is not None else None
        self.facts["Notional"].setText(f"{group_decimal(moved, 2)} {quote_token}" if moved is not None else "—")
        self.facts["Fee"].setText(f"{group_decimal(fee, 4)} {quote_token}" if fee is not None else "—")
        self.facts["Tx hash"].setText(order.tx_hash or "—")
        self.facts["Tx hash"].setToolTip(order.tx_hash or "")
        self._render_cancel()
        self.copy_hash.setEnabled(bool(order.tx_hash))
        self.facts["Attempts"].setText(str(order.attempts))
        self.facts["Error"].setText(order.error or "—")
        self.facts["Error"].setStyleSheet(f"color: {ERROR_TEXT.name()};" if order.error and not neutral else "")
        self.facts["Created"].setText(local_timestamp(order.created_at))
        self.facts["Updated"].setText(local_timestamp(order.updated_at))
        self._render_timeline()
        self._render_attempts()
        self._render_log()
        if order.is_terminal:
            self._tick.stop()
        elif not self._tick.isActive():
            self._tick.start()

    def _render_terms(self, quote_token: str) -> None:
        """What the trader agreed to: the order's type, its limit and expiry, and the worst price it accepts."""
        order, formats = self.order, self._formats
        terms = order.terms
        limit = terms.limit_price
        self.facts["Type"].setText("limit" if terms.type is OrderType.LIMIT else "market")
        limit_text = formats.price(order.pair, limit)
        self.facts["Limit price"].setText(f"{limit_text} {quote_token}" if limit_text else "—")
        self.facts["Expires at"].setText(local_timestamp(terms.expires_at) if terms.expires_at else "—")
        bound = terms.price_bound
        if bound is None:
            self.facts["Bound"].setText("—")
            self.facts["Bound"].setToolTip("")
            return
        word = "pays at most" if order.direction is Direction.BUY else "receives at least"
        self.facts["Bound"].setText(f"{word} {formats.price(order.pair, bound)} {quote_token}")
        self.facts["Bound"].setToolTip(
            "The worst execution price this order accepts: its limit"
            if terms.type is OrderType.LIMIT
            else "The worst execution price this order accepts: the quote it was sent from, widened by its slippage"
        )

    def _render_timeline(self) -> None:
        spans = state_spans(self.order)
        self.timeline.setRowCount(len(spans))
        for row, span in enumerate(spans):
            if span.left is not None:
                spent = duration(seconds_between(span.entered, span.left))
            elif span.status.is_terminal:
                spent = "final"
            else:
                spent = f"{duration(seconds_between(span.entered))} so far"
            self.timeline.setItem(row, 0, cell(str(span.status), color=STATUS_COLORS[span.status]))
            self.timeline.setItem(row, 1, cell(clock_time(span.entered)))
            self.timeline.setItem(row, 2, cell(spent, right=True))
            # Hop amounts at their token's decimals; the exact figures stay in the tooltip and the log.
            self.timeline.setItem(row, 3, cell(self._formats.amounts_in(span.note), tooltip=span.note))
        self.timeline.resizeRowsToContents()

    def _render_attempts(self) -> None:
        stories = attempts(self.order)
        self.attempt_table.setRowCount(len(stories))
        for row, story in enumerate(stories):
            failed = story.outcome.startswith("failed")
            color = ERROR_TEXT if failed else (WINNER_TEXT if story.outcome == "confirmed" else None)
            backoff = f"{story.retry_in_ms / 1000:g} s" if story.retry_in_ms else ""
            quoted = self._formats.price(self.order.pair, story.quoted_price)
            executed = self._formats.price(self.order.pair, story.executed_price)
            slip = slippage_bps(self.order.direction, story.quoted_price, story.executed_price)
            cells = [
                cell(str(story.number), right=True),
                cell(clock_time(story.started)),
                cell(story.venue or ""),
                cell(quoted, right=True),
                cell(executed, right=True),
                cell(slippage_words(slip), right=True, color=ERROR_TEXT if slip and slip > 0 else None),
                cell(story.outcome, color=color),
                cell(backoff, right=True),
                cell(story.error or "", color=ERROR_TEXT if story.error else None, tooltip=story.error),
            ]
            for column, item in enumerate(cells):
                self.attempt_table.setItem(row, column, item)
        self.attempt_table.resizeRowsToContents()
        signed = [story for story in stories if story.signature]
        self.signatures.setText("\n".join(f"attempt {story.number} signature  {story.signature}" for story in signed))
        self.signatures.setVisible(bool(signed))
        self.quote_panel.set_attempts({story.number: story.decision for story in stories if story.decision is not None})
        self._render_quotes()

    def _render_quotes(self) -> None:
        self.quote_panel.show_decision(self.order)

    def _render_log(self) -> None:
        entries = self.order.logs
        self.log_table.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            self.log_table.setItem(row, 0, cell(clock_time(entry.timestamp)))
            self.log_table.setItem(row, 1, cell(str(entry.status), color=STATUS_COLORS[entry.status]))
            self.log_table.setItem(row, 2, cell(entry.message, tooltip=entry.message))
        self.log_table.resizeRowsToContents()

    # -- cancel ---------------------------------------------------------------------------

    def _render_cancel(self) -> None:
        status = self.order.status
        cancellable = status in CANCELLABLE
        self.cancel_button.setEnabled(cancellable and not self._cancelling)
        if status is OrderStatus.SUBMITTED:
            self.cancel_note.setText("Sent: a SUBMITTED swap cannot be recalled")
        elif status is OrderStatus.CANCELLED:
            self.cancel_note.setText(CANCELLED_NOTE)
        elif status.is_terminal:
            self.cancel_note.setText("")
        elif not self._cancelling:
            self.cancel_note.setText("Can still be cancelled: its swap has not been sent")

    def _ask_cancel(self) -> None:
        self._cancelling = True
        self.cancel_button.setEnabled(False)
        self.cancel_note.setText("Cancelling…")
        self.cancel_requested.emit(self.order.id)

    def show_cancel_result(self, outcome: str, reason: str) -> None:
        """The engine's answer to Cancel, in one line beside the button."""
        self._cancelling = False
        self.cancel_note.setText(CANCELLED_NOTE if outcome == "cancelled" else f"Not cancelled: {reason}")
        self._render_cancel_button_only()

    def _render_cancel_button_only(self) -> None:
        self.cancel_button.setEnabled(self.order.status in CANCELLABLE)

    def _copy_hash(self) -> None:
        if self.order.tx_hash:
            QGuiApplication.clipboard().setText(self.order.tx_hash)
