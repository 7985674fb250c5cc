"""Small read-only tables (quotes, timelines, summaries) built the same way everywhere.

These hold a few dozen cells, so QTableWidget items are fine here; the order board, which may
hold 100,000 rows, uses its own model instead.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem

from ui.theme import monospace_font

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def header_item(table: QTableWidget, column: int) -> QTableWidgetItem:
    """A column's header item, made if the column has none yet (Qt answers None for an unlabelled one)."""
    item = table.horizontalHeaderItem(column)
    if item is None:
        item = QTableWidgetItem()
        table.setHorizontalHeaderItem(column, item)
    return item


def read_only_table(headers: list[str], *, right: tuple[int, ...] = ()) -> QTableWidget:
    """`right` lists the number columns: their headers align with their figures."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    for column in right:
        header_item(table, column).setTextAlignment(RIGHT)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(24)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.setAlternatingRowColors(True)
    table.setFont(monospace_font())
    header = table.horizontalHeader()
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


def cell(
    text: str, *, color: QColor | None = None, right: bool = False, tooltip: str | None = None
) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if color is not None:
        item.setForeground(color)
    if right:
        item.setTextAlignment(RIGHT)
    if tooltip:
        item.setToolTip(tooltip)
    return item


def section_title(title: str) -> QLabel:
    label = QLabel(title)
    label.setObjectName("sectionTitle")
    return label


def share_width(wanted: list[int], room: int) -> list[int]:
    """Column widths for `room` pixels: each column what it `wanted` when all fit, the rest shared out;
    otherwise the narrow columns keep their width and the wide ones split what is left evenly
    (equal shares cut an 11,410,000 BONK size while a -0.05 PnL column had room to spare)."""
    count = len(wanted)
    if count == 0:
        return []
    if sum(wanted) <= room:
        extra, odd = divmod(room - sum(wanted), count)
        return [width + extra + (1 if column < odd else 0) for column, width in enumerate(wanted)]
    widths = [0] * count
    left, open_columns = room, sorted(range(count), key=lambda column: wanted[column])
    while open_columns:
        share = left // len(open_columns)
        narrowest = open_columns[0]
        if wanted[narrowest] > share:
            for column in open_columns:
                widths[column] = share
            widths[open_columns[-1]] += left - share * len(open_columns)
            break
        widths[narrowest] = wanted[narrowest]
        left -= wanted[narrowest]
        open_columns.pop(0)
    return widths


def fit_columns(table: QTableWidget) -> None:
    """Size a table's columns to its figures within the viewport's width (see `share_width`)."""
    header = table.horizontalHeader()
    wanted = [
        max(table.sizeHintForColumn(column), header.sectionSizeHint(column)) for column in range(table.columnCount())
    ]
    header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    for column, width in enumerate(share_width(wanted, table.viewport().width())):
        if header.sectionSize(column) != width:
            header.resizeSection(column, width)
