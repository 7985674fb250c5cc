"""The fills blotter: every executed order, newest first, with notional, fee paid and slippage vs quote.

A model/view table (one row per fill, no item per cell), fed by the same order batches as the board.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from engine.account.model import notional, slippage_bps
from engine.model.domain import Direction, Order, OrderStatus, format_timestamp
from engine.model.execution_figures import order_fee
from engine.trading.pairs import PairCatalog
from ui.bridge import EngineBridge
from ui.formatting import PairFormats, short_id

COLUMNS = ("Time", "Order", "Pair", "Side", "Amount", "Price", "Venue", "Notional", "Fee", "Slippage (bps)")
RIGHT = frozenset({4, 5, 7, 8, 9})
BUY = QColor("#3fb950")
SELL = QColor("#f85149")
Index = QModelIndex | QPersistentModelIndex


class FillsModel(QAbstractTableModel):
    def __init__(self, catalog: PairCatalog) -> None:
        super().__init__()
        self.formats = PairFormats(catalog)
        self._fills: list[Order] = []  # newest first
        self._ids: set[str] = set()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._fills)

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
        return list(self._fills)

    def apply(self, orders: Iterable[Order]) -> None:
        fresh = [
            order
            for order in orders
            if order.status is OrderStatus.CONFIRMED and order.execution_price is not None and order.id not in self._ids
        ]
        if not fresh:
            return
        fresh.sort(key=lambda order: order.updated_at, reverse=True)
        self.beginResetModel()
        self._fills = sorted([*fresh, *self._fills], key=lambda order: order.updated_at, reverse=True)
        self._ids.update(order.id for order in fresh)
        self.endResetModel()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        order = self._fills[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(order, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in RIGHT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and column == 3:
            return BUY if order.direction is Direction.BUY else SELL
        if role == Qt.ItemDataRole.ForegroundRole and column == 9:
            bps = slippage_bps(order)
            return SELL if bps and bps > 0 else BUY if bps and bps < 0 else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{order.id}\ntx {order.tx_hash}"
        return None

    def _text(self, order: Order, column: int) -> str:
        quote = order.pair.split("-")[1]
        value = notional(order) or Decimal(0)
        if column == 0:
            return format_timestamp(order.updated_at)[11:19]
        if column == 1:
            return short_id(order.id)
        if column == 2:
            return order.pair
        if column == 3:
            return str(order.direction)
        if column == 4:
            return self.formats.amount(order.pair, order.amount)
        if column == 5:
            return self.formats.price(order.pair, order.execution_price)
        if column == 6:
            return str(order.dex or "")
        if column == 7:
            return f"{value:,.2f} {quote}"
        if column == 8:
            return f"{order_fee(order) or Decimal(0):,.4f} {quote}"
        bps = slippage_bps(order)
        return f"{bps:+}" if bps is not None else ""


class FillsBlotter(QTableView):
    def follow(self, bridge: EngineBridge) -> None:
        """Subscribe to the engine's updates: a CONFIRMED order becomes a fill row."""
        bridge.orders_changed.connect(lambda batch: self.apply(batch.values()))

    def __init__(self, catalog: PairCatalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fills_model = FillsModel(catalog)
        self.setModel(self.fills_model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(22)
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # Fit the rows on screen only. Qt's default measures 1,000 rows per column after every
        # reset (every batch with a fill): ~10,000 `data()` calls each time, which was most of the
        # desk's loop while orders streamed or history loaded (py-spy of the board bench).
        header.setResizeContentsPrecision(0)
        header.setStretchLastSection(True)

    def apply(self, orders: Iterable[Order]) -> None:
        self.fills_model.apply(orders)
