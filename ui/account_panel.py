"""The Account panel: balances (total, reserved, available) and positions with PnL, live; Reset.

It reads the engine's account view (a database read, off the loop's critical path) when orders
change, at most twice a second, and on a slow timer so unrealized PnL follows the market.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.account.model import DEFAULT_START
from engine.account.view import AccountView, Position
from engine.model.validation import InvalidOrder
from engine.runtime.engine import Engine
from ui.bridge import EngineBridge
from ui.formatting import PairFormats
from ui.tables import cell, fit_columns, read_only_table
from ui.theme import MUTED_TEXT

REFRESH_MS = 500
MARK_MS = 5000
ROW_HEIGHT = 22  # compact rows: the account shares its dock's height with the chart
BALANCE_ROWS = 3  # the balances never take more; the positions get the rest
MIN_BALANCE_ROWS = 2  # the two largest holdings are always in view
POSITION_ROWS = 4  # whole position rows kept before the balances take a third row
GAIN = QColor("#3fb950")
LOSS = QColor("#f85149")


def _signed_color(value: Any, shown: str) -> QColor | None:
    """Green or red only when the figure on screen is not zero (no red "0.00" for a -0.001 mark move)."""
    if not shown.strip("-0.,"):
        return None
    return GAIN if value > 0 else LOSS if value < 0 else None


class AccountPanel(QWidget):
    refreshed = Signal()
    # Available balance per token after each read; None when there is no paper account (the ticket listens).
    available_changed = Signal(object)

    def __init__(self, engine: Engine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.formats = PairFormats(engine.catalog)
        self.view: AccountView | None = None
        self._pending = False
        self._task: asyncio.Task[None] | None = None
        self.summary = QLabel()
        self.summary.setObjectName("hint")
        # One line (the dock shares its height with the chart), elided with "…" at the dock's width;
        # the whole PnL text is its tooltip.
        self.summary.setMinimumWidth(1)
        self.summary.setWordWrap(False)
        self._summary_text = ""
        self.reset_button = QPushButton("Reset…")
        self.reset_button.setToolTip("Start the paper account over with new balances")
        self.reset_button.clicked.connect(self.ask_reset)
        self.balances = read_only_table(["Token", "Total", "Reserved", "Available"], right=(1, 2, 3))
        self.positions = read_only_table(
            ["Pair", "Size", "Avg cost", "Mark", "Unreal.", "Realized"], right=(1, 2, 3, 4, 5)
        )
        self.balances.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        # The positions' columns are sized to their figures within the table's width (`fit_columns`,
        # again whenever that width changes, a scroll bar appearing included): equal shares cut a large
        # Size or a tiny Avg cost while the PnL columns had room to spare.
        self.positions.viewport().installEventFilter(self)
        for table in (self.balances, self.positions):
            # A stretched last section on top of Stretch columns kept ~24 px more than the view has:
            # "Realized" and its figures were cut off at the account's right edge (1366×768).
            table.horizontalHeader().setStretchLastSection(False)
        for table in (self.balances, self.positions):  # the columns share the width: no sideways scrolling
            table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            # Compact rows, and no title row above the positions (its words are the Pair header's
            # tooltip): at 1366×768 the positions showed one or two rows under a burst's balances.
            table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        pair_header = self.positions.horizontalHeaderItem(0)
        if pair_header is not None:
            pair_header.setToolTip("Positions: PnL in each pair's quote token")
        positions_chrome = self.positions.horizontalHeader().sizeHint().height() + 2 * self.positions.frameWidth()
        self.positions.setMinimumHeight(positions_chrome + POSITION_ROWS * ROW_HEIGHT)
        self.reset_error = QLabel()
        self.reset_error.setObjectName("fieldError")  # red, where Reset is: a refused reset is not a hint
        self.reset_error.setWordWrap(True)
        self.reset_error.hide()
        top = QHBoxLayout()
        title = QLabel("Balances")
        title.setObjectName("sectionTitle")
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.reset_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.reset_error)
        layout.addWidget(self.balances)
        layout.addWidget(self.positions, 3)
        layout.addWidget(self.summary)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(REFRESH_MS)
        self._debounce.timeout.connect(self.refresh)
        self._marks = QTimer(self)
        self._marks.setInterval(MARK_MS)
        self._marks.timeout.connect(self.refresh)
        self._marks.start()

    def stop(self) -> None:
        """The desk is closing: no more reads (the engine and its loop are going away)."""
        self._debounce.stop()
        self._marks.stop()
        if self._task is not None:
            self._task.cancel()

    def follow(self, bridge: EngineBridge) -> None:
        """Subscribe to the engine's updates: the account is read again soon after orders move."""
        bridge.orders_changed.connect(lambda _batch: self.orders_changed())

    def orders_changed(self) -> None:
        """Orders moved: read the account soon (many updates in a burst make one read)."""
        if not self._debounce.isActive():
            self._debounce.start()

    def refresh(self) -> None:
        if self._task is not None and not self._task.done():
            return
        if not self._marks.isActive():
            return  # stopped
        self._task = asyncio.ensure_future(self.reload())

    async def reload(self) -> None:
        self.show_view(await self.engine.account())

    def show_view(self, view: AccountView | None) -> None:
        self.view = view
        self.available_changed.emit(None if view is None else {b.token: b.available for b in view.balances})
        if view is None:
            self.balances.setRowCount(0)
            self.positions.setRowCount(0)
            self.summary.setText("No paper account: Reset starts one. Orders are not limited by balances until then.")
            self.refreshed.emit()
            return
        token = self.formats.token
        self.balances.setRowCount(len(view.balances))
        # Largest holdings first: after a burst, dust of ten tokens sorted by name hid USDC below the fold.
        ordered = sorted(view.balances, key=lambda b: (-self._dollars(b.token, b.total), b.token))
        for row, balance in enumerate(ordered):
            held = balance.reserved
            figures = [token(balance.token, value) for value in (balance.total, held, balance.available)]
            self.balances.setItem(row, 0, cell(balance.token))
            for column, text in enumerate(figures, start=1):
                color = MUTED_TEXT if column == 2 and not held else None
                self.balances.setItem(row, column, cell(text, right=True, color=color))
        self.positions.setRowCount(len(view.positions))
        # Largest first, as the balances: by name, a burst's BONK and BTC dust took the two rows the
        # dock shows at 1366×768 and the SOL position just traded was below the fold.
        for row, position in enumerate(sorted(view.positions, key=self._position_order)):
            self._show_position(row, position)
        # The largest quote currency first: when the line is elided, what goes is SOL-quoted dust.
        by_size = sorted(
            view.pnl_by_currency().items(),
            key=lambda item: (-self._dollars(item[0], abs(item[1][0]) + abs(item[1][1]) + item[1][2]), item[0]),
        )
        parts = [
            f"{currency}: realized {token(currency, r)}, unrealized {token(currency, u)}, fees {token(currency, f)}"
            for currency, (r, u, f) in by_size
        ]
        started = view.started_at.strftime("%Y-%m-%d %H:%M UTC")
        text = " · ".join(parts) if parts else f"Account since {started}."
        self._summary_text = text
        self._elide_summary()
        self.summary.setToolTip(f"{text}\nPaper account since {started}")
        self._fit_balances()
        fit_columns(self.positions)
        self.refreshed.emit()

    def _show_position(self, row: int, position: Position) -> None:
        """Size at the pair's amount decimals, prices at its price decimals, PnL at the quote token's."""
        pair, quote = position.pair, position.quote
        money, price = self.formats.token, self.formats.price
        fees = f"fees paid {money(quote, position.fees)} {quote} over {position.fills} fills"
        self.positions.setItem(row, 0, cell(pair, tooltip=fees))
        texts = [
            (self.formats.amount(pair, position.size), None),
            (price(pair, position.average_cost), None),
            (price(pair, position.mark), None),
            (unrealized := money(quote, position.unrealized), _signed_color(position.unrealized, unrealized)),
            (realized := money(quote, position.realized), _signed_color(position.realized, realized)),
        ]
        for column, (text, color) in enumerate(texts, start=1):
            self.positions.setItem(row, column, cell(text, right=True, color=color))

    def _position_order(self, position: Position) -> tuple[Decimal, str]:
        worth = abs(position.size) * (position.mark if position.mark is not None else position.average_cost)
        return -self._dollars(position.quote, worth), position.pair

    def _dollars(self, token: str, amount: Decimal) -> Decimal:
        """Roughly what `amount` of a token is worth in dollars, at the catalog's reference prices
        (only to order the balances: stablecoins at 1, others by their -USDC or -USDT pair)."""
        if token in ("USDC", "USDT"):
            return amount
        for quote in ("USDC", "USDT"):
            spec = self.engine.catalog.get(f"{token}-{quote}")
            if spec is not None:
                return amount * spec.price
        return Decimal(0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_balances()
        self._elide_summary()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.positions.viewport() and event.type() == QEvent.Type.Resize:
            fit_columns(self.positions)
        return super().eventFilter(watched, event)

    def _elide_summary(self) -> None:
        """The PnL line on one line at the panel's width, ending "…" rather than cut mid-word at the edge."""
        label = self.summary
        margins = label.contentsMargins()
        room = max(1, label.width() - 2 * label.margin() - margins.left() - margins.right())
        label.setText(label.fontMetrics().elidedText(self._summary_text, Qt.TextElideMode.ElideRight, room))

    def _fit_balances(self) -> None:
        """The balances table exactly as tall as two or three whole rows (largest holdings first; the
        rest scroll), never a row cut in half, and the positions keep four rows before it takes a third.

        The table's height is fixed to whole rows from the room the two tables share: left to the
        layout, 1366×768 gave it 58 px, two and a half rows of 22 px.
        """
        table = self.balances
        rows = table.rowCount()
        chrome = table.horizontalHeader().height() + 2 * table.frameWidth()
        if rows == 0:
            table.setFixedHeight(chrome + ROW_HEIGHT)  # the empty table keeps its header and one blank row
            return
        shared = table.height() + self.positions.height()
        if not table.isVisible():
            shared = 0  # not laid out yet: the widest fit, corrected on the first resize
        for_positions = self.positions.minimumHeight()
        fits = (shared - for_positions - chrome) // ROW_HEIGHT if shared else BALANCE_ROWS
        shown = max(min(MIN_BALANCE_ROWS, rows), min(BALANCE_ROWS, rows, fits))
        height = chrome + sum(table.rowHeight(row) for row in range(shown))
        if table.height() != height or table.minimumHeight() != height:
            table.setFixedHeight(height)

    def ask_reset(self) -> None:
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Reset the paper account")
        dialog.setLabelText("Starting balances (orders still running stop counting against the account):")
        dialog.setTextValue(DEFAULT_START)
        dialog.textValueSelected.connect(lambda text: asyncio.ensure_future(self.reset(text)))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    async def reset(self, balances: str) -> None:
        try:
            await self.engine.reset_account(balances)
        except InvalidOrder as problem:
            self.reset_error.setText(f"Reset refused: {problem}")
            self.reset_error.show()
            return
        self.reset_error.hide()
        await self.reload()
