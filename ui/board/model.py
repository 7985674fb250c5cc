"""The order board's model: one row per order, keyed by id, updated in place; it sorts and filters itself.

Columns are declared as data (`ui/board/columns.py`); cells are formatted on demand for the few
rows on screen, from `Order` snapshots built for those rows only: finished orders are kept packed as
columns (`ui/order_rows.py`, ~300 bytes an order instead of ~2 kB of objects), running ones whole.
No per-cell objects, so 100,000 orders stay cheap.

Every order gets a slot (its arrival number on the board) that never changes (`ui/board/slots.py`):
new orders on top and older history pages below never shift another order's slot, so an update
costs a dict lookup and one `dataChanged` for its own row. With no sort and no filter (newest
first, the usual case while orders stream) a row's slot is arithmetic.

Sorted or filtered, the rows are a list of slots (`_view`) computed here with numpy over cached
keys (`BoardKeys`) and announced with ONE `layoutChanged`; the profile of the old design showed
QSortFilterProxyModel re-mapping 100,000 rows in C++ and calling `filterAcceptsRow`/`data` per row
(0.2-1.3 s per sort or filter at 100,000 orders). While sorted or filtered, updates that would move
a row, or move it in or out of the filter, trigger one throttled re-layout, not one per update.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any, cast

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)

from engine.model.domain import ACTIVE_STATES, Order, OrderStatus
from engine.trading.pairs import PairCatalog
from ui.board.arrangement import arranged_slots
from ui.board.cells import RowCells
from ui.board.columns import COLUMNS, Column, ColumnSpec, copy_text, elapsed_seconds
from ui.board.context import BoardContext
from ui.board.filter import BoardFilter
from ui.board.keys import PreparedKeys
from ui.board.slots import BoardSlots, prepare_page
from ui.order_rows import OrderRows

ORDER_ROLE = Qt.ItemDataRole.UserRole + 2
COPY_ROLE = Qt.ItemDataRole.UserRole + 3  # the full value of a cell (whole id, whole hash)

_LARGE_BOARD = 20_000
_DISPLAY = Qt.ItemDataRole.DisplayRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole

AnyIndex = QModelIndex | QPersistentModelIndex

__all__ = ["COLUMNS", "COPY_ROLE", "ORDER_ROLE", "BoardModel", "Column", "ColumnSpec", "elapsed_seconds"]


class BoardModel(QAbstractTableModel):
    counts_changed = Signal()  # the per-status counts moved (the "Running 7" button reads them)

    def __init__(self, catalog: PairCatalog, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = BoardContext.for_catalog(catalog)
        self._slots = BoardSlots(self.context)
        self._orders = self._slots.orders  # the same object, read on every paint: one attribute away
        self._filter = BoardFilter()
        self._sort_column = Column.TIME
        self._sort_descending = True
        self._view: list[int] | None = None  # slots in display order, when sorted or filtered
        self._row_of: np.ndarray[Any, np.dtype[np.int64]] | None = None  # slot → row in _view (-1: hidden)
        self.status_counts: Counter[OrderStatus] = self._slots.status_counts  # the same Counter
        self._relayout_timer = QTimer(self)
        self._relayout_timer.setSingleShot(True)
        self._relayout_timer.timeout.connect(self._relayout)
        self._cells = RowCells.for_board(self.context)
        self._display = tuple(column.spec.display for column in COLUMNS)
        self._colours = tuple(column.spec.colour for column in COLUMNS)
        self._tips = tuple(column.spec.cell_tip for column in COLUMNS)
        self._alignments = tuple(
            (Qt.AlignmentFlag.AlignRight if column.spec.numeric else Qt.AlignmentFlag.AlignLeft)
            | Qt.AlignmentFlag.AlignVCenter
            for column in COLUMNS
        )

    # -- cells ----------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex | None = None) -> int:
        if parent is not None and parent.isValid():
            return 0
        return len(self._orders) if self._view is None else len(self._view)

    def columnCount(self, parent: AnyIndex | None = None) -> int:
        if parent is not None and parent.isValid():
            return 0
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        spec = COLUMNS[section].spec
        if role == _DISPLAY:
            return spec.title
        if role == _TOOLTIP:
            return spec.tooltip
        if role == _ALIGN:
            return self._alignments[section]
        return None

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        # Called for every visible cell and role on each repaint: cheap checks first.
        column = index.column()
        if role in (_DISPLAY, _FOREGROUND):
            slot = self._slot_at(index.row())
            order = self._orders[slot]
            cells = self._cells.of(slot, order)
            if role == _DISPLAY:
                return cells[0][column] if cells is not None else self._display[column](order, self.context)
            if cells is not None:
                return cells[1][column]
            colour = self._colours[column]
            return None if colour is None else colour(order, self.context)
        if role == _ALIGN:
            return self._alignments[column]
        if role == ORDER_ROLE:
            return self.order_at(index.row())
        if role == _TOOLTIP:
            tip = self._tips[column]
            return None if tip is None else tip(self.order_at(index.row()), self.context)
        if role == COPY_ROLE:
            return copy_text(COLUMNS[column], self.order_at(index.row()), self.context)
        return None

    def multiData(self, index: AnyIndex, span: QModelRoleDataSpan | QModelRoleData, /) -> None:
        """All the roles a delegate asks for one cell, in one call.

        A delegate asks ~7 roles per cell; through `data()` each is a separate call from C++ into
        Python, which was most of the board's paint time (py-spy: `multiData` → `data` 26 % of a repaint).
        A finished order's texts and colours come from its row's cached cells (`RowCells`).
        """
        if not index.isValid():
            return
        column = index.column()
        slot = self._slot_at(index.row())
        order = self._orders[slot]
        cells = self._cells.of(slot, order)
        wanted = (span,) if isinstance(span, QModelRoleData) else cast(Iterable[QModelRoleData], span)
        for role_data in wanted:
            role = role_data.role()
            if role == _DISPLAY:
                role_data.setData(cells[0][column] if cells is not None else self._display[column](order, self.context))
            elif role == _ALIGN:
                role_data.setData(self._alignments[column])
            elif role == _FOREGROUND and self._colours[column] is not None:
                colour = cells[1][column] if cells is not None else self._colours[column](order, self.context)  # type: ignore[misc]
                role_data.setData(colour)
            else:
                role_data.clearData()

    # -- rows -----------------------------------------------------------------------------

    def _slot_at(self, row: int) -> int:
        return self._slots.natural_slot(row) if self._view is None else self._view[row]

    def _row_of_slot(self, slot: int) -> int:
        """The row showing `slot`, or -1 when the filter hides it."""
        if self._view is None:
            return self._slots.natural_row(slot)
        if self._row_of is None or len(self._row_of) < len(self._orders):
            row_of = np.full(len(self._orders), -1, dtype=np.int64)
            row_of[np.array(self._view, dtype=np.int64)] = np.arange(len(self._view), dtype=np.int64)
            self._row_of = row_of
        return int(self._row_of[slot])

    def order_at(self, row: int) -> Order:
        return self._orders[self._slot_at(row)]

    def row_of(self, order_id: str) -> int | None:
        slot = self._slots.slot.get(order_id)
        if slot is None:
            return None
        row = self._row_of_slot(slot)
        return None if row < 0 else row

    @property
    def rows(self) -> OrderRows:
        """Every order on the board by slot (the blotter lists its fills out of them)."""
        return self._orders

    def slots_of(self, order_ids: Iterable[str]) -> list[int | None]:
        """Each order's slot on the board (None: not on it), for the blotter listing fills out of the board's rows."""
        return list(map(self._slots.slot.get, order_ids))

    def get(self, order_id: str) -> Order | None:
        slot = self._slots.slot.get(order_id)
        return None if slot is None else self._orders[slot]

    def orders(self) -> Iterator[Order]:
        """Every order on the board, newest first, whatever the filter shows."""
        for row in range(len(self._orders)):
            yield self._orders[self._slots.natural_slot(row)]

    def visible_orders(self) -> list[Order]:
        """The orders the board shows, top to bottom (what "export board view" writes)."""
        return [self.order_at(row) for row in range(self.rowCount())]

    @property
    def max_seq(self) -> int:
        """The highest sequence number on the board."""
        return self._slots.max_seq

    @property
    def total(self) -> int:
        """Every order on the board, shown or filtered out."""
        return len(self._orders)

    def __len__(self) -> int:
        return self.rowCount()

    # -- updates --------------------------------------------------------------------------

    def apply(self, batch: dict[str, Order]) -> None:
        """Insert new orders on top and update known ones in place (one `dataChanged` per run of rows)."""
        fresh: list[Order] = []
        changed: list[int] = []
        relayout = False
        sort_key = self._sort_column.spec.sort_key
        arranged = self._view is not None
        for order_id, snapshot in batch.items():
            order = snapshot.evolve(logs=()) if snapshot.logs else snapshot
            slot = self._slots.slot.get(order_id)
            if slot is None:
                fresh.append(order)
                continue
            before = self._slots.replace(slot, order)
            if arranged and not relayout:
                relayout = self._filter.accepts(before) != self._filter.accepts(order) or (
                    not self._natural_sort and sort_key(before) != sort_key(order)
                )
            changed.append(slot)
        if fresh:
            relayout = self._insert_live(fresh) or relayout
        rows = sorted(row for row in map(self._row_of_slot, changed) if row >= 0)
        self._emit_rows_changed(rows)
        if relayout or (arranged and self._sort_column.spec.ticks):
            self._schedule_relayout()
        self.counts_changed.emit()

    def _insert_live(self, fresh: list[Order]) -> bool:
        """Put new orders on the board; True when a re-layout must place them."""
        if self._view is None:
            self.beginInsertRows(QModelIndex(), 0, len(fresh) - 1)
            self._slots.add_live(fresh)
            self.endInsertRows()
            return False
        slots = self._slots.add_live(fresh)
        shown = [slot for slot, order in zip(slots, fresh, strict=True) if self._filter.accepts(order)]
        if not shown:
            return False
        if self._natural_sort:  # newest first: they belong on top, newest of them first
            self.beginInsertRows(QModelIndex(), 0, len(shown) - 1)
            self._view[0:0] = reversed(shown)
            self._row_of = None
            self.endInsertRows()
            return False
        start = len(self._view)  # sorted: they join at the bottom until the throttled re-layout places them
        self.beginInsertRows(QModelIndex(), start, start + len(shown) - 1)
        self._view.extend(shown)
        self._row_of = None
        self.endInsertRows()
        return True

    @staticmethod
    def prepare(older: Sequence[Order]) -> PreparedKeys:
        """A page of history with its keys computed: pure, so the desk runs it in a worker thread."""
        return prepare_page(older)

    def append_history(self, older: Iterable[Order] | PreparedKeys) -> int:
        """Add a page of stored orders below everything shown; orders already on the board are skipped."""
        prepared = older if isinstance(older, PreparedKeys) else self.prepare(list(older))
        known = self._slots.slot
        if not known.keys().isdisjoint(prepared.rows.ids):  # rare: they arrived live meanwhile
            rows = prepared.rows
            prepared = self.prepare([rows[row] for row in range(len(rows)) if rows.ids[row] not in known])
        page = prepared.rows
        if not len(page):
            return 0
        if self._view is None:
            start = len(self._orders)
            self.beginInsertRows(QModelIndex(), start, start + len(page) - 1)
            self._slots.add_history(prepared)
            self.endInsertRows()
        else:
            slots = self._slots.add_history(prepared)
            shown = self._filter.select(np.asarray(slots, dtype=np.int64), self._slots.keys)
            if shown:
                start = len(self._view)
                self.beginInsertRows(QModelIndex(), start, start + len(shown) - 1)
                self._view.extend(shown)  # older than everything shown: in place when newest first
                self._row_of = None
                self.endInsertRows()
                if not self._natural_sort:
                    self._schedule_relayout()
        self.counts_changed.emit()
        return len(page)

    def _emit_rows_changed(self, rows: list[int]) -> None:
        last_column = len(COLUMNS) - 1
        start = previous = -1
        for row in rows:
            if row == previous + 1 and start >= 0:
                previous = row
                continue
            if start >= 0:
                self.dataChanged.emit(self.index(start, 0), self.index(previous, last_column))
            start = previous = row
        if start >= 0:
            self.dataChanged.emit(self.index(start, 0), self.index(previous, last_column))

    def refresh_rows(self, first: int, last: int) -> None:
        """Cells that read the clock or the queue (waiting times, queue places) changed on their own;
        only active orders have such cells, so with none on the board (an idle desk) only midnight's
        Time cells repaint: the rows on screen each second cost the idle desk ~50 ms (py-spy)."""
        new_day = self._cells.check_day()
        if not new_day and not any(self.status_counts[status] for status in ACTIVE_STATES):
            return
        if 0 <= first <= last < self.rowCount():
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))

    # -- sorting and filtering ------------------------------------------------------------

    @property
    def sort_column(self) -> Column:
        return self._sort_column

    @property
    def sort_descending(self) -> bool:
        return self._sort_descending

    @property
    def _natural_sort(self) -> bool:
        return self._sort_column is Column.TIME and self._sort_descending

    @property
    def filter(self) -> BoardFilter:
        return self._filter

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            column = Column.TIME.index
        self._sort_column = COLUMNS[column]
        self._sort_descending = order == Qt.SortOrder.DescendingOrder
        self._relayout()

    def set_filter(self, chosen: BoardFilter) -> None:
        """Show what `chosen` lets through; a search that only grows narrows the rows already shown."""
        before, self._filter = self._filter, chosen
        if chosen == before:
            return
        narrowing = (
            self._view is not None
            and before.search
            and before.search in chosen.search
            and replace(before, search=chosen.search) == chosen
            and not self._relayout_timer.isActive()
        )
        if narrowing:
            self._relayout(lambda: chosen.narrow(self._view or [], self._slots.keys))
        else:
            self._relayout()

    def _arranged_slots(self) -> list[int] | None:
        """Slots in display order for the current sort and filter, or None for the natural order."""
        slots = self._slots
        return arranged_slots(
            slots.live, slots.history, self._filter, slots.keys, self._sort_column, self._sort_descending
        )

    def _schedule_relayout(self) -> None:
        if not self._relayout_timer.isActive():
            self._relayout_timer.start(500 if len(self._orders) > _LARGE_BOARD else 150)

    def _relayout(self, arrange: Any = None) -> None:
        """Recompute the rows and announce them once; selection and current row follow their orders."""
        self._relayout_timer.stop()
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        kept = [(self._slot_at(index.row()), index.column()) for index in persistent]
        self._view = arrange() if arrange is not None else self._arranged_slots()
        self._row_of = None
        moved = []
        for slot, column in kept:
            row = self._row_of_slot(slot)
            moved.append(self.index(row, column) if row >= 0 else QModelIndex())
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()
