"""The summary: what every stored order added up to, counted by the database and kept live while open.

It says what it covers (every order in the database, whatever the board's filter shows), keeps
notional bought and sold apart per QUOTE token, shows fees, slippage against the quote in bps,
retry rate and median time to CONFIRMED per venue, and never rounds 8,211 of 8,212 up to 100 %.
The figures come from `engine.reporting.summary()` (SQL aggregates, off the loop); while the dialog is
open it asks again at most once a second, and only after orders changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDialog, QLabel, QTableWidget, QVBoxLayout, QWidget

from engine.reporting.summary import Figures, OrderSummary
from engine.runtime.engine import Engine
from ui.formatting import PairFormats, duration, group_decimal, share_text
from ui.tables import cell, read_only_table, section_title
from ui.theme import ERROR_TEXT, MUTED_TEXT, WINNER_TEXT

Spawn = Callable[[Coroutine[Any, Any, Any]], "asyncio.Task[Any]"]
REFRESH_MS = 1000
PAIR_HEADERS = [
    "Pair",
    "Orders",
    "Confirmed",
    "Failed",
    "Cancelled",
    "Success",
    "Volume",
    "Bought",
    "Sold",
    "Fees",
    "Avg price",
    "Slippage",
]
VENUE_HEADERS = ["Venue", "Confirmed", "Share", "Retried", "Slippage", "To CONFIRMED p50"]
TOKEN_HEADERS = ["Quote token", "Bought", "Sold", "Fees"]


def slippage_text(bps: float | None) -> str:
    """Average executed vs quoted: "+3.2 bps worse" / "1.1 bps better"; positive is worse."""
    if bps is None:
        return "—"
    if abs(bps) < 0.05:
        return "as quoted"
    return f"{abs(bps):.1f} bps {'worse' if bps > 0 else 'better'}"


def money(value: Decimal, places: int = 2) -> str:
    return group_decimal(value, places)


class SummaryDialog(QDialog):
    def __init__(
        self,
        engine: Engine,
        spawn: Spawn,
        board_filter: Callable[[], str | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self._spawn = spawn
        self._board_filter = board_filter
        self._formats = PairFormats(engine.catalog)
        self.summary: OrderSummary | None = None
        self.refreshes = 0
        self._stale = True
        self._asking: asyncio.Task[Any] | None = None
        self.setWindowTitle("Summary — every stored order")
        screen = self.screen().availableGeometry()
        self.resize(min(1200, screen.width() - 40), min(760, screen.height() - 40))

        self.headline = QLabel("Counting…")
        self.scope = QLabel()
        self.scope.setObjectName("hint")
        self.scope.setWordWrap(True)
        self.pair_table = read_only_table(PAIR_HEADERS, right=tuple(range(1, len(PAIR_HEADERS))))
        self.venue_table = read_only_table(VENUE_HEADERS, right=tuple(range(1, len(VENUE_HEADERS))))
        self.token_table = read_only_table(TOKEN_HEADERS, right=(1, 2, 3))
        for table in (self.venue_table, self.token_table):
            table.horizontalHeader().setStretchLastSection(False)  # figures stay beside their titles
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.scope)
        layout.addWidget(section_title("Per pair (volume in BASE; bought, sold, fees and average price in QUOTE)"))
        layout.addWidget(self.pair_table, 3)
        layout.addWidget(section_title("Per venue (the venue of each order's last attempt)"))
        layout.addWidget(self.venue_table)
        layout.addWidget(section_title("Per quote token (notional of CONFIRMED orders)"))
        layout.addWidget(self.token_table)

        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._refresh_if_stale)
        self._timer.start()
        self._refresh_if_stale()

    def orders_changed(self) -> None:
        """Orders moved on the desk: the figures are asked for again within a second."""
        self._stale = True

    def refresh(self) -> asyncio.Task[Any]:
        self._stale = False
        self._asking = self._spawn(self._ask())
        return self._asking

    def _refresh_if_stale(self) -> None:
        if self._stale and (self._asking is None or self._asking.done()):
            self.refresh()

    async def _ask(self) -> None:
        summary = await self.engine.summary()
        if not self.isVisible() and self.refreshes:
            return
        self.show_summary(summary)

    def show_summary(self, summary: OrderSummary) -> None:
        self.summary = summary
        self.refreshes += 1
        total = summary.total
        running = f" · <b>{total.active:,}</b> still running" if total.active else ""
        cancelled = f" · <b>{total.cancelled:,}</b> cancelled" if total.cancelled else ""
        self.headline.setText(
            f"<b>{total.orders:,}</b> orders · <b>{total.confirmed:,}</b> confirmed · "
            f"<b>{total.failed:,}</b> failed{cancelled}{running} · success "
            f"<b>{share_text(total.confirmed, total.finished)}</b> of finished · retried "
            f"<b>{share_text(total.retried, total.orders)}</b>"
        )
        hidden = self._board_filter()
        board = f" The board's filter is not applied ({hidden})." if hidden else ""
        self.scope.setText(
            f"Covers every order stored in the database.{board} Live while open — "
            f"updated {datetime.now().strftime('%H:%M:%S')}."
        )
        self._fill_pairs(summary)
        self._fill_venues(summary)
        self._fill_tokens(summary)

    def _fill_pairs(self, summary: OrderSummary) -> None:
        catalog = self.engine.catalog
        names = [name for name in catalog.names if name in summary.pairs]
        names += sorted(set(summary.pairs) - set(names))
        self.pair_table.setRowCount(len(names))
        for row, name in enumerate(names):
            figures = summary.pairs[name]
            spec = catalog.get(name)
            places = spec.price_decimals if spec else 6
            token = spec.quote if spec else ""
            average = figures.average_price
            cells = [
                cell(name),
                cell(f"{figures.orders:,}", right=True),
                cell(f"{figures.confirmed:,}", right=True),
                cell(f"{figures.failed:,}", right=True, color=ERROR_TEXT if figures.failed else None),
                cell(f"{figures.cancelled:,}", right=True, color=MUTED_TEXT),
                cell(share_text(figures.confirmed, figures.finished), right=True),
                cell(f"{self._formats.amount(name, figures.volume)} {spec.base if spec else ''}", right=True),
                cell(f"{money(figures.bought)} {token}", right=True),
                cell(f"{money(figures.sold)} {token}", right=True),
                cell(f"{money(figures.fees, 4)} {token}", right=True),
                cell("—" if average is None else group_decimal(average, places), right=True),
                self._slippage_cell(figures),
            ]
            for column, item in enumerate(cells):
                self.pair_table.setItem(row, column, item)

    def _fill_venues(self, summary: OrderSummary) -> None:
        venues = sorted(summary.venues.items())
        self.venue_table.setRowCount(len(venues))
        confirmed = summary.total.confirmed
        for row, (name, figures) in enumerate(venues):
            p50 = figures.confirm_p50_s
            cells = [
                cell(name),
                cell(f"{figures.confirmed:,}", right=True),
                cell(share_text(figures.confirmed, confirmed), right=True),
                cell(share_text(figures.retried, figures.orders), right=True, tooltip="Orders that needed a retry"),
                self._slippage_cell(figures),
                cell("—" if p50 is None else duration(p50), right=True, tooltip="Median, from submission"),
            ]
            for column, item in enumerate(cells):
                self.venue_table.setItem(row, column, item)
        self._fit_rows(self.venue_table)

    @staticmethod
    def _fit_rows(table: QTableWidget) -> None:
        """Small tables as tall as their rows: the per-pair table gets the rest of the dialog."""
        table.setFixedHeight(table.horizontalHeader().sizeHint().height() + 24 * max(1, table.rowCount()) + 6)

    def _fill_tokens(self, summary: OrderSummary) -> None:
        tokens = sorted(summary.quote_tokens.items())
        self.token_table.setRowCount(len(tokens))
        for row, (token, figures) in enumerate(tokens):
            cells = [
                cell(token),
                cell(f"{money(figures.bought)} {token}", right=True),
                cell(f"{money(figures.sold)} {token}", right=True),
                cell(f"{money(figures.fees, 4)} {token}", right=True),
            ]
            for column, item in enumerate(cells):
                self.token_table.setItem(row, column, item)
        self._fit_rows(self.token_table)

    @staticmethod
    def _slippage_cell(figures: Figures) -> Any:
        bps = figures.average_slippage_bps
        color = None if bps is None else ERROR_TEXT if bps > 0.05 else WINNER_TEXT if bps < -0.05 else None
        return cell(slippage_text(bps), right=True, color=color)

    def done(self, result: int) -> None:
        self._timer.stop()
        super().done(result)
