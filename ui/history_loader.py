"""The board's history at start: the newest page at once, older pages in the background in slices.

Moved out of the main window (issue 25 item 3). What it measured stays with it: older pages are
large, read and turned into orders in a worker thread, and only the insert into the board (a few
milliseconds per thousand rows) runs on the loop, a slice per turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, Signal

from engine.model.domain import Order
from engine.runtime.engine import Engine
from ui.account_panel import AccountPanel
from ui.blotter import FillsBlotter
from ui.board.gc_policy import freeze_survivors
from ui.board.keys import PreparedKeys
from ui.board.model import BoardModel
from ui.chart import PriceChart

FIRST_PAGE = 1000
HISTORY_PAGE = 10_000
HISTORY_SLICE = 2_000  # rows the board and the chart take per loop turn (~5 µs each on a quiet machine)


def _prepared_slices(page: list[Order]) -> list[PreparedKeys]:
    """A history page cut into the slices the board inserts one per loop turn, keys made (in a worker thread)."""
    return [BoardModel.prepare(page[at : at + HISTORY_SLICE]) for at in range(0, len(page), HISTORY_SLICE)]


class HistoryLoader(QObject):
    loaded = Signal()

    def __init__(
        self,
        engine: Engine,
        board: BoardModel,
        chart: PriceChart,
        blotter: FillsBlotter,
        account: AccountPanel,
        spawn: Callable[[Coroutine[Any, Any, Any]], object],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine, self.board, self.chart, self.blotter, self.account = engine, board, chart, blotter, account
        self.spawn = spawn

    async def load(self, first_page: int = FIRST_PAGE, page: int = HISTORY_PAGE) -> None:
        """Paint the newest orders at once; older pages follow in the background, in slices that keep the loop free."""
        # What the desk made at start (modules, widgets) lives as long as it does: out of the
        # collector's way now, or the first full collection walks all of it (262 ms, on the loop).
        freeze_survivors()
        newest = await self.engine.history_page(limit=first_page)
        self.board.append_history(newest)
        self.chart.apply(self.engine.limits.waiting())  # listed orders carry no terms; the book's do
        self.account.refresh()
        self.chart.apply(newest)
        self.blotter.apply(newest)
        freeze_survivors()
        if len(newest) < first_page:
            self.loaded.emit()
            return
        self.spawn(self._load_older(newest[-1].seq, page))

    async def _load_older(self, before_seq: int, page: int) -> None:
        while True:
            # Read, snapshots and the board's sort keys all in worker threads; the loop only inserts,
            # a slice per turn (a whole page of 10,000 held it ~25-60 ms at a time).
            older = await self.engine.history_page(limit=page, before_seq=before_seq)
            slices = await asyncio.to_thread(_prepared_slices, older)
            drawn = False
            for prepared in slices:
                self.board.append_history(prepared)
                # The chart's fills per slice too (~6-17 µs a row), drawn once per page: a whole
                # page held the loop 280-340 ms under load, its redraw ~40-90 ms more.
                drawn = self.chart.model.apply(prepared.orders) or drawn
                await asyncio.sleep(0)
            if drawn:
                self.chart.redraw()
            self.blotter.apply(older)
            freeze_survivors()
            if len(older) < page:
                break
            before_seq = older[-1].seq
            await asyncio.sleep(0)  # let the window paint and the engine run between pages
        self.loaded.emit()
