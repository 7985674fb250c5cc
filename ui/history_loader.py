"""The board's history at start: the newest page at once, older pages in the background in slices.

Moved out of the main window (issue 25 item 3). What it measured stays with it: older pages are
large, read in a worker thread, and only the insert into the board (a few milliseconds per thousand
rows) runs on the loop, about 10 ms of it per turn. On SQLite an older page never becomes `Order`s
at all: SQLite parses it into columns (engine/storage/history_columns.py), which are packed and
keyed as they are (ui/order_rows.py, ui/board/keys.py) and shared by the board, the chart and the
blotter.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from engine.model.domain import Order
from engine.runtime.engine import Engine
from engine.storage.history_columns import read_history_columns
from engine.storage.report_reader import sqlite_file
from ui.account_panel import AccountPanel
from ui.blotter import FillsBlotter
from ui.board.gc_policy import freeze_survivors, release_free_memory
from ui.board.keys import PreparedKeys, prepare_packed
from ui.board.model import BoardModel
from ui.chart import PriceChart
from ui.packed_history import rows_from_history

FIRST_PAGE = 1000
HISTORY_PAGE = 10_000
HISTORY_SLICE = 2_000  # rows the board and the chart take at a time (~3 µs each on a quiet machine)
# Slices go in back to back until this much of a turn is spent, then the window paints. A repaint
# of the whole window after every slice was 50 repaints per 100,000 orders, 0.33 s of the load.
INSERT_TURN_S = 0.010


def _prepared_slices(page: list[Order]) -> list[PreparedKeys]:
    """A history page cut into the slices the board inserts one per loop turn, keys made (in a worker thread)."""
    return [BoardModel.prepare(page[at : at + HISTORY_SLICE]) for at in range(0, len(page), HISTORY_SLICE)]


def _packed_slices(database: Path, page: int, before_seq: int) -> tuple[list[PreparedKeys], int, int]:
    """A page of a SQLite file read as columns, slice by slice, packed and keyed with no `Order` per row
    (in a worker thread); with how many orders it held and the oldest one's seq."""
    slices: list[PreparedKeys] = []
    count = 0
    while count < page:
        columns = read_history_columns(database, limit=min(HISTORY_SLICE, page - count), before_seq=before_seq)
        if not len(columns):
            break
        slices.append(prepare_packed(rows_from_history(columns)))
        count += len(columns)
        before_seq = columns.seq[-1]
        if len(columns) < HISTORY_SLICE:
            break
    return slices, count, before_seq


class HistoryLoader(QObject):
    loaded = Signal()
    loading_older = Signal()  # the newest page is shown; older pages follow until `loaded`

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
        self.loading_older.emit()
        self.spawn(self._load_older(newest[-1].seq, page))

    async def _read_page(self, page: int, before_seq: int) -> tuple[list[PreparedKeys], int, int]:
        """Up to `page` older orders as slices ready to insert: straight from a SQLite file's columns,
        or (PostgreSQL) from the store's snapshots, packed in a worker thread."""
        database = sqlite_file(self.engine.store.url)
        if database is not None:
            return await asyncio.to_thread(_packed_slices, database, page, before_seq)
        older = await self.engine.history_page(limit=page, before_seq=before_seq)
        count, last_seq = len(older), older[-1].seq if older else before_seq
        return await asyncio.to_thread(_prepared_slices, older), count, last_seq

    async def _load_older(self, before_seq: int, page: int) -> None:
        while True:
            # Read and packed in worker threads (the page's `Order`s are dropped there: the board, the
            # chart and the blotter keep columns, ui/order_rows.py); the loop only inserts, about 10 ms
            # of slices per turn (a whole page of 10,000 held it ~25-60 ms at a time).
            slices, count, last_seq = await self._read_page(page, before_seq)
            drawn = False
            turn_began = time.perf_counter()
            for prepared in slices:
                self.board.append_history(prepared)
                # The chart's fills and the blotter's per slice too, straight from the packed columns.
                drawn = self.chart.model.apply_rows(prepared.rows) or drawn
                self.blotter.apply_rows(prepared.rows)
                if time.perf_counter() - turn_began >= INSERT_TURN_S:
                    await asyncio.sleep(0)
                    turn_began = time.perf_counter()
            del slices
            if drawn:
                self.chart.schedule_redraw()
            freeze_survivors()
            if count < page:
                break
            before_seq = last_seq
            await asyncio.sleep(0)  # let the window paint and the engine run between pages
        release_free_memory()
        self.loaded.emit()
