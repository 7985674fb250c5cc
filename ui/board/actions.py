"""What a trader does to rows and columns: open, cancel, copy the real values, hide and show columns.

Copies always take the full value (`COPY_ROLE`: the whole id, the whole signature, the exact
amount), never the elided text on screen. "Copy row as CSV" writes the export's own columns
(`engine.reporting.reports`), header first, so a paste lands in a spreadsheet the way an export opens.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QHeaderView, QMenu, QTableView

from engine.model.domain import Order
from engine.reporting.reports import COLUMNS as CSV_COLUMNS
from engine.reporting.reports import csv_row
from ui.board.columns import COLUMNS
from ui.board.model import COPY_ROLE, ORDER_ROLE

COPY_CSV_SHORTCUT = "Ctrl+Shift+C"
CANCEL_SHORTCUT = "Del"


def rows_as_csv(orders: Iterable[Order]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_row(order) for order in orders)
    return buffer.getvalue()


def copy_to_clipboard(text: str) -> None:
    clipboard = QGuiApplication.clipboard()
    if clipboard is not None:
        clipboard.setText(text)


class BoardActions(QObject):
    """The row and header menus of one board table, and the keys that do the same without a mouse."""

    open_order = Signal(str)
    cancel_order = Signal(str)
    copied = Signal(str)  # a short line saying what went to the clipboard

    def __init__(self, table: QTableView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.table = table
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self.row_menu)
        header = table.horizontalHeader()
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self.header_menu)
        self.last_menu: QMenu | None = None
        for shortcut, slot in (
            (QKeySequence.StandardKey.Copy, self.copy_cells),
            (COPY_CSV_SHORTCUT, self.copy_rows_csv),
            (CANCEL_SHORTCUT, self.cancel_selected),
        ):
            action = QAction(table)
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            action.triggered.connect(slot)
            table.addAction(action)

    # -- what is selected -----------------------------------------------------------------

    def selected_rows(self) -> list[int]:
        selection = self.table.selectionModel()
        rows = sorted({index.row() for index in selection.selectedRows()}) if selection else []
        if not rows and self.table.currentIndex().isValid():
            rows = [self.table.currentIndex().row()]
        return rows

    def selected_orders(self) -> list[Order]:
        model = self.table.model()
        return [model.index(row, 0).data(ORDER_ROLE) for row in self.selected_rows()]

    # -- copying --------------------------------------------------------------------------

    def copy_cells(self) -> None:
        """Ctrl+C: the current column's full value for every selected row, one per line."""
        current = self.table.currentIndex()
        column = current.column() if current.isValid() else 0
        model = self.table.model()
        values = [str(model.index(row, column).data(COPY_ROLE) or "") for row in self.selected_rows()]
        if values:
            copy_to_clipboard("\n".join(values))
            self.copied.emit(f"Copied {COLUMNS[column].spec.title.lower()} of {len(values):,} order(s)")

    def copy_field(self, field: str) -> None:
        orders = self.selected_orders()
        values = [getattr(order, field) or "" for order in orders]
        copy_to_clipboard("\n".join(values))
        self.copied.emit(f"Copied {len(values):,} full {'id' if field == 'id' else 'tx hash'}(es)")

    def copy_rows_csv(self) -> None:
        orders = self.selected_orders()
        if orders:
            copy_to_clipboard(rows_as_csv(orders))
            self.copied.emit(f"Copied {len(orders):,} row(s) as CSV")

    def cancel_selected(self) -> None:
        for order in self.selected_orders():
            if not order.is_terminal:
                self.cancel_order.emit(order.id)

    # -- menus ----------------------------------------------------------------------------

    def row_menu(self, point: QPoint) -> QMenu | None:
        index = self.table.indexAt(point)
        if index.isValid() and not self.table.selectionModel().isRowSelected(index.row()):
            self.table.setCurrentIndex(index)
        orders = self.selected_orders()
        if not orders:
            return None
        menu = QMenu(self.table)
        first = orders[0]
        menu.addAction("Open order\tEnter", lambda: self.open_order.emit(first.id))
        cancellable = [order for order in orders if not order.is_terminal]
        cancel = menu.addAction(
            f"Cancel {'order' if len(orders) == 1 else f'{len(cancellable):,} active orders'}\t{CANCEL_SHORTCUT}",
            self.cancel_selected,
        )
        cancel.setEnabled(bool(cancellable))
        if not cancellable:
            cancel.setToolTip("Finished orders cannot be cancelled")
        menu.addSeparator()
        menu.addAction("Copy full id", lambda: self.copy_field("id"))
        copy_hash = menu.addAction("Copy full tx hash", lambda: self.copy_field("tx_hash"))
        copy_hash.setEnabled(any(order.tx_hash for order in orders))
        menu.addAction(f"Copy row as CSV\t{COPY_CSV_SHORTCUT}", self.copy_rows_csv)
        self._show(menu, self.table.viewport().mapToGlobal(point))
        return menu

    def header_menu(self, point: QPoint) -> QMenu:
        header: QHeaderView = self.table.horizontalHeader()
        menu = QMenu(header)
        for column in COLUMNS:
            action = menu.addAction(column.spec.title)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(column.index))
            action.setToolTip(column.spec.tooltip)
            action.toggled.connect(lambda shown, index=column.index: self.show_column(index, shown))
        menu.addSeparator()
        menu.addAction("Show all columns", self.show_all_columns)
        self._show(menu, header.mapToGlobal(point))
        return menu

    def show_all_columns(self) -> None:
        for column in COLUMNS:
            self.show_column(column.index, True)

    def show_column(self, index: int, shown: bool) -> None:
        header = self.table.horizontalHeader()
        visible = [c.index for c in COLUMNS if not header.isSectionHidden(c.index)]
        if not shown and visible == [index]:
            return  # the last visible column stays: a board with no columns cannot be brought back by its header
        header.setSectionHidden(index, not shown)
        if shown and header.sectionSize(index) == 0:
            header.resizeSection(index, COLUMNS[index].spec.width)

    def _show(self, menu: QMenu, where: QPoint) -> None:
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.last_menu = menu
        menu.popup(where)
