"""Small read-only tables (quotes, timelines, summaries) built the same way everywhere.

These hold a few dozen cells, so QTableWidget items are fine here; the order board, which may
hold 100,000 rows, uses its own model instead.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem

from ui.theme import monospace_font

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def read_only_table(headers: list[str], *, right: tuple[int, ...] = ()) -> QTableWidget:
    """`right` lists the number columns: their headers align with their figures."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    for column in right:
        table.horizontalHeaderItem(column).setTextAlignment(RIGHT)
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


def cell(text: str, *, color: Any = None, right: bool = False, tooltip: str | None = None) -> QTableWidgetItem:
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
