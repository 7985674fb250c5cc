"""The fills blotter: every executed order, newest first, with notional, fee paid and slippage vs quote.

A model/view table (one row per fill, no item per cell), fed by the same order batches as the board,
and by history pages as packed columns (ui/order_rows.py): an `Order` is built only for a row on screen.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, Protocol, cast

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from engine.account.model import notional, slippage_bps
from engine.model.domain import Direction, Order, OrderStatus, format_timestamp
from engine.model.execution_figures import order_fee
from engine.trading.pairs import PairCatalog
from ui.board.cells import Cells, RowCells
from ui.bridge import EngineBridge
from ui.formatting import PairFormats, short_id
from ui.order_rows import NO_EXPONENT, STATUS_CODE, OrderRows

COLUMNS = ("Time", "Order", "Pair", "Side", "Amount", "Price", "Venue", "Notional", "Fee", "Slippage (bps)")
RIGHT = frozenset({4, 5, 7, 8, 9})
WIDTHS = (72, 76, 100, 44, 104, 108, 76, 150, 130, 96)  # fit 1,828,602.34 USDC and BONK-USDC
BUY = QColor("#3fb950")
SELL = QColor("#f85149")
Index = QModelIndex | QPersistentModelIndex
_DISPLAY = Qt.ItemDataRole.DisplayRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_RIGHT_ALIGNED = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class SharedRows(Protocol):
    """Where the desk's orders already live (the board's model): the blotter lists fills out of it."""

    @property
    def rows(self) -> OrderRows: ...

    def slots_of(self, order_ids: Iterable[str]) -> list[int | None]: ...


class FillsModel(QAbstractTableModel):
    """Fills newest first, as row numbers into packed orders (`OrderRows`); an `Order` is built per row shown.

    On the desk the rows are the board's own (`shared`): a fill costs the blotter 9 bytes (its row
    number and a "listed" flag), not a second copy of the order (issue 24 item 6: RSS with a trading
    day on the board). Alone (a test), it packs what it is given into rows of its own.
    """

    def __init__(self, catalog: PairCatalog, shared: SharedRows | None = None) -> None:
        super().__init__()
        self.formats = PairFormats(catalog)
        self._shared = shared
        self._rows = shared.rows if shared is not None else OrderRows()
        self._shown = array("q")  # row numbers in `_rows`, newest fill first
        self._listed = bytearray()  # per row number: 1 once it is listed
        self._cells = RowCells(self.formats, DISPLAY, COLOURS)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._shown)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation is Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and section in RIGHT:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def fills(self) -> list[Order]:
        return [self._rows[row] for row in self._shown]

    def apply(self, orders: Iterable[Order]) -> None:
        """Live updates: each newly CONFIRMED order becomes a fill (on the desk the board has it already)."""
        fresh = [
            order for order in orders if order.status is OrderStatus.CONFIRMED and order.execution_price is not None
        ]
        if not fresh:
            return
        if self._shared is None:
            known = {self._rows.ids[row] for row in self._shown}
            fresh = [order for order in fresh if order.id not in known]
            first = len(self._rows)
            self._rows.extend(order.evolve(logs=()) if order.logs else order for order in fresh)
            self._list(list(range(first, len(self._rows))))
        else:
            self._list([slot for slot in self._shared.slots_of(order.id for order in fresh) if slot is not None])

    def apply_rows(self, chunk: OrderRows) -> None:
        """A page of history, packed: its fills are listed without building an `Order` for any of them."""
        confirmed = STATUS_CODE[OrderStatus.CONFIRMED]
        codes = np.frombuffer(chunk.status, dtype=np.int8)
        priced = np.frombuffer(chunk.price.exponents, dtype=np.int8) != NO_EXPONENT
        priced[list(chunk.price.odd)] = True  # a price of more than 18 digits is kept aside, not absent
        wanted = np.flatnonzero((codes == confirmed) & priced)
        if not len(wanted):
            return
        if self._shared is None:
            self._list((wanted + self._rows.absorb(chunk)).tolist())
        else:
            slots = self._shared.slots_of([chunk.ids[row] for row in wanted.tolist()])
            self._list([slot for slot in slots if slot is not None])

    def _list(self, rows: list[int]) -> None:
        listed = self._listed
        if len(listed) < len(self._rows):
            listed.extend(bytes(len(self._rows) - len(listed)))
        fresh = [row for row in rows if not listed[row]]
        if not fresh:
            return
        for row in fresh:
            listed[row] = 1
        self._place(np.asarray(fresh, dtype=np.int64))

    def _place(self, rows: npt.NDArray[np.int64]) -> None:
        """List new fills newest first: on top or at the bottom when they are all newer or older than what is
        listed (as live fills and history pages are), else one re-sort of the whole list."""
        updated = np.frombuffer(self._rows.updated, dtype=np.int64)
        rows = rows[np.argsort(-updated[rows], kind="stable")]
        shown = np.frombuffer(self._shown, dtype=np.int64)
        count = len(rows)
        if not len(shown) or updated[rows[-1]] >= updated[shown[0]]:
            del shown
            self.beginInsertRows(QModelIndex(), 0, count - 1)
            self._shown[0:0] = array("q", rows.tobytes())
            self.endInsertRows()
        elif updated[rows[0]] <= updated[shown[-1]]:
            del shown
            start = len(self._shown)
            self.beginInsertRows(QModelIndex(), start, start + count - 1)
            self._shown.frombytes(rows.tobytes())
            self.endInsertRows()
        else:
            every = np.concatenate((shown, rows))
            del shown
            self.beginResetModel()
            self._shown = array("q", every[np.argsort(-updated[every], kind="stable")].tobytes())
            self.endResetModel()

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        slot = self._shown[index.row()]
        order = self._rows[slot]
        if role == _TOOLTIP:
            return f"{order.id}\ntx {order.tx_hash}"
        cells = self._cells.of(slot, order)
        if cells is None:
            return None
        return _cell(cells, index.column(), role)

    def multiData(self, index: Index, span: QModelRoleDataSpan | QModelRoleData, /) -> None:
        """All the roles a delegate asks for one cell, in one call, from the row's kept cells.

        Through `data()` each of a cell's ~7 roles was a call from C++ into Python that formatted
        the fill again (its notional and fee in Decimal), on every repaint: after every batch of
        fills while a burst streams.
        """
        if not index.isValid():
            return
        slot = self._shown[index.row()]
        order = self._rows[slot]
        cells = self._cells.of(slot, order)
        column = index.column()
        wanted = (span,) if isinstance(span, QModelRoleData) else cast(Iterable[QModelRoleData], span)
        for role_data in wanted:
            role = role_data.role()
            if role == _TOOLTIP:
                role_data.setData(f"{order.id}\ntx {order.tx_hash}")
                continue
            value = None if cells is None else _cell(cells, column, role)
            if value is None:
                role_data.clearData()
            else:
                role_data.setData(value)


def _cell(cells: Cells, column: int, role: int) -> Any:
    """A kept cell's value for `role` (None: the role is not given)."""
    if role == _DISPLAY:
        return cells[0][column]
    if role == _FOREGROUND:
        return cells[1][column]
    if role == _ALIGN and column in RIGHT:
        return _RIGHT_ALIGNED
    return None


def _quote(order: Order) -> str:
    return order.pair.split("-")[1]


def _slippage_colour(order: Order, _formats: PairFormats) -> QColor | None:
    bps = slippage_bps(order)
    return SELL if bps and bps > 0 else BUY if bps and bps < 0 else None


def _slippage_text(order: Order, _formats: PairFormats) -> str:
    bps = slippage_bps(order)
    return f"{bps:+}" if bps is not None else ""


# Each column's text and colour, from the fill and the pairs' formats (kept per row: ui/board/cells.py).
DISPLAY: tuple[Callable[[Order, PairFormats], str], ...] = (
    lambda order, _formats: format_timestamp(order.updated_at)[11:19],
    lambda order, _formats: short_id(order.id),
    lambda order, _formats: order.pair,
    lambda order, _formats: str(order.direction),
    lambda order, formats: formats.amount(order.pair, order.amount),
    lambda order, formats: formats.price(order.pair, order.execution_price),
    lambda order, _formats: str(order.dex or ""),
    lambda order, _formats: f"{notional(order) or Decimal(0):,.2f} {_quote(order)}",
    lambda order, _formats: f"{order_fee(order) or Decimal(0):,.4f} {_quote(order)}",
    _slippage_text,
)
COLOURS: tuple[Callable[[Order, PairFormats], QColor | None] | None, ...] = (
    None,
    None,
    None,
    lambda order, _formats: BUY if order.direction is Direction.BUY else SELL,
    *(None,) * 5,
    _slippage_colour,
)


class FillsBlotter(QTableView):
    def follow(self, bridge: EngineBridge) -> None:
        """Subscribe to the engine's updates: a CONFIRMED order becomes a fill row."""
        bridge.orders_changed.connect(lambda batch: self.apply(batch.values()))

    def __init__(self, catalog: PairCatalog, parent: QWidget | None = None, shared: SharedRows | None = None) -> None:
        super().__init__(parent)
        self.fills_model = FillsModel(catalog, shared)
        self.setModel(self.fills_model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(22)
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        # Fixed widths that fit the figures, never sized to contents: a view that is not on screen (the
        # Fills tab behind the Account at 1366 px) measured every one of its rows for that, so a theme
        # change with a trading day of fills held the desk for minutes (seen with 20,000).
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate(WIDTHS):
            header.resizeSection(column, width)
        header.setStretchLastSection(True)

    def apply(self, orders: Iterable[Order]) -> None:
        self.fills_model.apply(orders)

    def apply_rows(self, chunk: OrderRows) -> None:
        self.fills_model.apply_rows(chunk)
