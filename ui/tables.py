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
