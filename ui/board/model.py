"""The order board's model: one row per order, keyed by id, updated in place, newest on top.

Columns are declared as data (`Column`), as vn.py's monitors do, so a column's title, alignment,
width and sort key live in one place. Rows hold the engine's immutable `Order` snapshots (without
their logs) and cells are formatted on demand for the few rows on screen: no per-cell objects, so
100,000 orders stay cheap.

Rows live in two lists so that neither new orders (on top) nor older history pages (at the
bottom) ever shift the stored position of another order: `_live` grows oldest-first at its end
and is shown reversed on top; `_history` grows newest-first and is shown below it. An order's
update therefore costs a dict lookup and one `dataChanged` for its own row.

Sorting happens here, with cached plain-value keys (`BoardKeys`), rather than in the proxy:
QSortFilterProxyModel would call `data()` twice per comparison (millions of calls for a big board),
while `sorted()` over cached keys runs in C in tens of milliseconds. While a sort is active, changes
that move rows trigger one throttled re-sort instead of a re-sort per update.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)

from engine.account.model import notional, slippage_bps
from engine.domain import Order
from engine.pairs import PairCatalog
from ui.board.columns import COLUMNS, SORT_KEYS, Column, ColumnSpec, elapsed_seconds
from ui.board.keys import BoardKeys
from ui.formatting import PairFormats, duration, local_time, local_timestamp, short_hash, short_id
from ui.theme import ERROR_TEXT, MUTED_TEXT, SIDE_COLORS

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ORDER_ROLE = Qt.ItemDataRole.UserRole + 2

_LARGE_BOARD = 20_000

AnyIndex = QModelIndex | QPersistentModelIndex

__all__ = [
    "COLUMNS",
    "ORDER_ROLE",
    "SORT_KEYS",
    "SORT_ROLE",
    "BoardModel",
    "Column",
    "ColumnSpec",
    "elapsed_seconds",
]


class BoardModel(QAbstractTableModel):
    def __init__(self, catalog: PairCatalog, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._formats = PairFormats(catalog)
        self._live: list[Order] = []
        self._history: list[Order] = []
        # Stored position of each order: live index p is encoded as -(p + 1), history index h as h.
        self._where: dict[str, int] = {}
        self._keys = BoardKeys()
        self._sort_column: Column = Column.TIME
        self._sort_descending = True
        self._sorted: list[int] | None = None  # encoded positions in display order, when not natural
        self._sorted_row: dict[int, int] = {}
        self._resort_timer = QTimer(self)
        self._resort_timer.setSingleShot(True)
        self._resort_timer.timeout.connect(self._resort)
        self.max_seq = 0
        self._display: tuple[Callable[[Order], str], ...] = tuple(self._display_for(column) for column in COLUMNS)
        self._alignments = tuple(
            (Qt.AlignmentFlag.AlignRight if column.value.numeric else Qt.AlignmentFlag.AlignLeft)
            | Qt.AlignmentFlag.AlignVCenter
            for column in COLUMNS
        )

    # -- cells ----------------------------------------------------------------------------

    def _display_for(self, column: Column) -> Callable[[Order], str]:
        formats = self._formats
        return {
            Column.TIME: lambda order: local_time(order.created_at),
            Column.ID: lambda order: short_id(order.id),
            Column.PAIR: lambda order: order.pair,
            Column.SIDE: lambda order: str(order.direction),
            Column.AMOUNT: lambda order: formats.amount(order.pair, order.amount),
            Column.STATUS: lambda order: str(order.status),
            Column.VENUE: lambda order: str(order.dex) if order.dex else "",
            Column.PRICE: lambda order: formats.price(order.pair, order.execution_price),
            Column.NOTIONAL: lambda order: _notional_text(order),
            Column.SLIPPAGE: lambda order: _slippage_text(order),
            Column.TX_HASH: lambda order: short_hash(order.tx_hash),
            Column.ATTEMPTS: lambda order: str(order.attempts) if order.attempts else "",
            Column.ELAPSED: lambda order: duration(elapsed_seconds(order)),
        }[column]

    def rowCount(self, parent: AnyIndex | None = None) -> int:
        if parent is not None and parent.isValid():
            return 0
        return len(self._live) + len(self._history)

    def columnCount(self, parent: AnyIndex | None = None) -> int:
        if parent is not None and parent.isValid():
            return 0
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        spec = COLUMNS[section].value
        if role == Qt.ItemDataRole.DisplayRole:
            return spec.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return spec.tooltip
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._alignments[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Called for every visible cell and role on each repaint: cheap checks first.
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display[index.column()](self.order_at(index.row()))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._alignments[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(index)
        if role == ORDER_ROLE:
            return self.order_at(index.row())
        if role == SORT_ROLE:
            return SORT_KEYS[COLUMNS[index.column()]](self.order_at(index.row()))
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(index)
        return None

    def _foreground(self, index: AnyIndex) -> Any:
        column = COLUMNS[index.column()]
        if column is Column.SIDE:
            return SIDE_COLORS[self.order_at(index.row()).direction]
        if column in (Column.ID, Column.TX_HASH, Column.TIME):
            return MUTED_TEXT
        return None

    def _tooltip(self, index: AnyIndex) -> str | None:
        order = self.order_at(index.row())
        column = COLUMNS[index.column()]
        if column is Column.ID:
            return order.id
        if column is Column.TX_HASH:
            return order.tx_hash
        if column is Column.TIME:
            return local_timestamp(order.created_at)
        if column is Column.STATUS and order.error:
            return f"<span style='color:{ERROR_TEXT.name()}'>{order.error}</span>"
        return None

    # -- rows -----------------------------------------------------------------------------

    def _get(self, position: int) -> Order:
        return self._live[-position - 1] if position < 0 else self._history[position]

    def _set(self, position: int, order: Order) -> None:
        if position < 0:
            self._live[-position - 1] = order
        else:
            self._history[position] = order
        self._keys.replace(position, order)

    def _position_at(self, row: int) -> int:
        if self._sorted is not None:
            return self._sorted[row]
        live = len(self._live)
        return -(live - row) if row < live else row - live

    def _row_of_position(self, position: int) -> int:
        if self._sorted is not None:
            return self._sorted_row[position]
        return len(self._live) - 1 - (-position - 1) if position < 0 else len(self._live) + position

    def order_at(self, row: int) -> Order:
        return self._get(self._position_at(row))

    def row_of(self, order_id: str) -> int | None:
        position = self._where.get(order_id)
        return None if position is None else self._row_of_position(position)

    def search_text_at(self, row: int) -> str:
        """Lower-cased pair and tx hash of the order in `row`, for the board's search."""
        return self._keys.search_at(self._position_at(row))

    def get(self, order_id: str) -> Order | None:
        position = self._where.get(order_id)
        return None if position is None else self._get(position)

    def orders(self) -> Iterator[Order]:
        """Every order on the board, in display order."""
        for row in range(self.rowCount()):
            yield self.order_at(row)

    def __len__(self) -> int:
        return self.rowCount()

    # -- updates --------------------------------------------------------------------------

    def apply(self, batch: dict[str, Order]) -> None:
        """Insert new orders on top and update known ones in place (one `dataChanged` per run of rows)."""
        fresh: list[Order] = []
        changed: list[int] = []
        moved = False
        sort_key = SORT_KEYS[self._sort_column]
        for order_id, snapshot in batch.items():
            order = replace(snapshot, logs=()) if snapshot.logs else snapshot
            self.max_seq = max(self.max_seq, order.seq)
            position = self._where.get(order_id)
            if position is None:
                fresh.append(order)
                continue
            if self._sorted is not None and not moved:
                moved = sort_key(self._get(position)) != sort_key(order)
            self._set(position, order)
            changed.append(position)
        if fresh:
            self._insert_live(fresh)
        self._emit_rows_changed(sorted(self._row_of_position(position) for position in changed))
        if self._sorted is not None and (fresh or moved or self._sort_column is Column.ELAPSED):
            self._schedule_resort()

    def _insert_live(self, fresh: list[Order]) -> None:
        first_new = len(self._live)
        if self._sorted is None:
            self.beginInsertRows(QModelIndex(), 0, len(fresh) - 1)
            self._append_live(fresh)
            self.endInsertRows()
            return
        # Sorted: new rows join at the bottom until the throttled re-sort places them.
        start = self.rowCount()
        self.beginInsertRows(QModelIndex(), start, start + len(fresh) - 1)
        self._append_live(fresh)
        for offset in range(len(fresh)):
            position = -(first_new + offset) - 1
            self._sorted_row[position] = len(self._sorted)
            self._sorted.append(position)
        self.endInsertRows()

    def _append_live(self, fresh: list[Order]) -> None:
        for order in fresh:
            self._live.append(order)
            self._where[order.id] = -len(self._live)
        self._keys.add_live(fresh)

    def append_history(self, older: Iterable[Order]) -> int:
        """Add a page of stored orders below everything shown; orders already on the board are skipped."""
        page = [order for order in older if order.id not in self._where]
        if not page:
            return 0
        start = self.rowCount()
        self.beginInsertRows(QModelIndex(), start, start + len(page) - 1)
        first = len(self._history)
        self._history.extend(page)
        self._keys.add_history(page)
        positions = range(first, len(self._history))
        self._where.update(zip((order.id for order in page), positions, strict=True))
        self.max_seq = max(self.max_seq, max(order.seq for order in page))
        if self._sorted is not None:
            shown = len(self._sorted)
            self._sorted_row.update(zip(positions, range(shown, shown + len(page)), strict=True))
            self._sorted.extend(positions)
        self.endInsertRows()
        if self._sorted is not None:
            self._schedule_resort()
        return len(page)

    def _emit_rows_changed(self, rows: list[int]) -> None:
        """One dataChanged per run of consecutive rows (`rows` sorted), not one per row."""
        last_column = len(COLUMNS) - 1
        runs: list[list[int]] = []
        for row in rows:
            if runs and row == runs[-1][1] + 1:
                runs[-1][1] = row
            else:
                runs.append([row, row])
        for start, end in runs:
            self.dataChanged.emit(self.index(start, 0), self.index(end, last_column))

    # -- sorting --------------------------------------------------------------------------

    @property
    def sort_column(self) -> Column:
        return self._sort_column

    @property
    def sort_descending(self) -> bool:
        return self._sort_descending

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            column = Column.TIME.index
        self._sort_column = COLUMNS[column]
        self._sort_descending = order == Qt.SortOrder.DescendingOrder
        self._resort()

    def _sorted_positions(self) -> list[int]:
        """Stored positions in display order, sorted in C over cached keys.

        Python's sort is stable, so sorting the natural order (newest first) keeps ties newest
        first when descending; ascending sorts the reversed natural order, so ties run oldest first.
        """
        keys = self._keys.natural(self._sort_column, self._live, self._history)
        count = len(keys)
        if self._sort_descending:
            rows = sorted(range(count), key=keys.__getitem__, reverse=True)
        else:
            rows = sorted(range(count - 1, -1, -1), key=keys.__getitem__)
        live = len(self._live)
        positions = [*range(-live, 0), *range(len(self._history))]  # natural row → stored position
        return list(map(positions.__getitem__, rows))

    def _schedule_resort(self) -> None:
        if not self._resort_timer.isActive():
            self._resort_timer.start(1000 if self.rowCount() > _LARGE_BOARD else 150)

    def _resort(self) -> None:
        self._resort_timer.stop()
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        kept = [(self.order_at(index.row()).id, index.column()) for index in persistent]
        natural = self._sort_column is Column.TIME and self._sort_descending
        if natural:
            self._sorted, self._sorted_row = None, {}
        else:
            self._sorted = self._sorted_positions()
            self._sorted_row = dict(zip(self._sorted, range(len(self._sorted)), strict=True))
        self.changePersistentIndexList(
            persistent, [self.index(self._row_of_position(self._where[i]), column) for i, column in kept]
        )
        self.layoutChanged.emit()


def _notional_text(order: Order) -> str:
    value = notional(order)
    return "" if value is None else f"{value:,.2f}"


def _slippage_text(order: Order) -> str:
    value = slippage_bps(order)
    return "" if value is None else f"{value:+}"
