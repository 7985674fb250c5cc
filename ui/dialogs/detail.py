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
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from engine.model.domain import Order, OrderStatus
from engine.model.execution_figures import (
    slippage_bps,
    slippage_words,
)
from engine.model.outcomes import Outcome, is_neutral_end, outcome
from engine.trading.pairs import PairCatalog
from ui.dialogs.detail_facts import OrderFacts
from ui.dialogs.detail_quotes import QuotesPanel
from ui.dialogs.order_story import attempts, state_spans
from ui.formatting import (
    PairFormats,
    clock_time,
    duration,
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
        self.fact_grid = self._facts_grid()
        layout.addLayout(self.fact_grid)
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

    def _facts_grid(self) -> OrderFacts:
        grid = OrderFacts(self._formats, lambda: QGuiApplication.clipboard().setText(self.order.id), self._copy_hash)
        self.facts, self.copy_hash, self.copy_id = grid.values, grid.copy_hash, grid.copy_id
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
        self.fact_grid.show(order, spec.quote if spec else "")
        self._render_cancel()
        self._render_timeline()
        self._render_attempts()
        self._render_log()
        if order.is_terminal:
            self._tick.stop()
        elif not self._tick.isActive():
            self._tick.start()

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
