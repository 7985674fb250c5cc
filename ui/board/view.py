"""The order board widget: filter bar above a table view, status chips, live elapsed times.

Elapsed times of running orders tick by repainting the viewport once a second, not by model
signals, so a ticking clock never makes the proxy re-filter or the model announce changes.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QModelIndex, QPersistentModelIndex, QRectF, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.domain import OrderStatus
from engine.pairs import PairCatalog
from ui.board.filter import BoardFilter
from ui.board.model import COLUMNS, ORDER_ROLE, BoardModel, Column
from ui.theme import STATUS_COLORS, monospace_font

ALL = "All"
SEARCH_PAUSE_MS = 150


class StatusChipDelegate(QStyledItemDelegate):
    """Paints the status as a rounded coloured chip, readable at a glance across a busy board."""

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        order = index.data(ORDER_ROLE)
        if order is None:
            super().paint(painter, option, index)
            return
        style = option.widget.style() if option.widget else None
        if style is not None and option.state & QStyle.StateFlag.State_Selected:
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(option.rect).adjusted(4, 3, -4, -3)
        text = str(order.status)
        metrics = option.fontMetrics
        # One chip width for every status, so the column reads as a clean stripe of colour.
        rect.setWidth(min(rect.width(), metrics.horizontalAdvance("SUBMITTED") + 14))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(STATUS_COLORS[order.status])
        painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
        painter.setPen(Qt.GlobalColor.white)
        font = painter.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 0.85)
        painter.setFont(font)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()


class BoardTable(QTableView):
    """Enter on a row opens it, as double-click does."""

    activated_order = Signal(str)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self._open(self.currentIndex())
            return
        super().keyPressEvent(event)

    def _open(self, index: QModelIndex | QPersistentModelIndex) -> None:
        order = index.data(ORDER_ROLE)
        if order is not None:
            self.activated_order.emit(order.id)


class BoardView(QWidget):
    """The board with its filter bar; `open_order` asks the window for an order's detail."""

    open_order = Signal(str)

    def __init__(self, catalog: PairCatalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = BoardModel(catalog, self)
        self.proxy = BoardFilter(self.model, self)

        self.search = QLineEdit(placeholderText="Search id, pair or tx hash   (Ctrl+F)", clearButtonEnabled=True)
        self.search.setObjectName("boardSearch")
        self.status_filter = QComboBox()
        self.status_filter.addItem(ALL, None)
        for status in OrderStatus:
            self.status_filter.addItem(str(status), status)
        self.pair_filter = QComboBox()
        self.pair_filter.addItem(ALL, None)
        for name in catalog.names:
            self.pair_filter.addItem(name, name)
        self.active_only = QCheckBox("Active only")
        self.active_only.setToolTip("Hide CONFIRMED and FAILED orders (Ctrl+Shift+A)")
        self.count_label = QLabel()
        self.count_label.setObjectName("hint")

        bar = QHBoxLayout()
        bar.addWidget(self.search, 3)
        bar.addWidget(QLabel("Status"))
        bar.addWidget(self.status_filter)
        bar.addWidget(QLabel("Pair"))
        bar.addWidget(self.pair_filter)
        bar.addWidget(self.active_only)
        bar.addStretch(1)
        bar.addWidget(self.count_label)

        self.table = BoardTable()
        self.table.setModel(self.proxy)
        self.table.setItemDelegateForColumn(Column.STATUS.index, StatusChipDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setFont(monospace_font())
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.default_header_state = QByteArray()
        self._apply_default_columns()
        self.table.setSortingEnabled(True)
        header.setSortIndicator(Column.TIME.index, Qt.SortOrder.DescendingOrder)
        self.default_header_state = header.saveState()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table)

        # Typing re-filters once the keys pause: on 100,000 rows a filter pass takes a noticeable moment.
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_PAUSE_MS)
        self._search_timer.timeout.connect(lambda: self.proxy.set_search(self.search.text()))
        self.search.textChanged.connect(self._search_timer.start)
        self.status_filter.currentIndexChanged.connect(self._status_chosen)
        self.pair_filter.currentIndexChanged.connect(lambda: self.proxy.set_pair(self.pair_filter.currentData()))
        self.active_only.toggled.connect(self.proxy.set_active_only)
        self.table.doubleClicked.connect(self.table._open)
        self.table.activated_order.connect(self.open_order)
        for signal in (
            self.proxy.rowsInserted,
            self.proxy.rowsRemoved,
            self.proxy.modelReset,
            self.proxy.layoutChanged,
        ):
            signal.connect(self._count_later)

        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._tick_elapsed)
        self._tick.start()
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(100)
        self._count_timer.timeout.connect(self._update_count)
        self._update_count()

    def _status_chosen(self) -> None:
        # Qt hands item data back as plain text, not as the enum that went in.
        chosen = self.status_filter.currentData()
        self.proxy.set_status(OrderStatus(chosen) if chosen else None)

    def _apply_default_columns(self) -> None:
        header = self.table.horizontalHeader()
        for column in COLUMNS:
            header.setSectionHidden(column.index, False)
            header.resizeSection(column.index, column.value.width)

    def _tick_elapsed(self) -> None:
        """Running orders' elapsed times advance: repaint just that column's visible cells."""
        if not self.isVisible():
            return
        header = self.table.horizontalHeader()
        x = header.sectionViewportPosition(Column.ELAPSED.index)
        viewport = self.table.viewport()
        viewport.update(x, 0, header.sectionSize(Column.ELAPSED.index), viewport.height())

    def _count_later(self) -> None:
        if not self._count_timer.isActive():
            self._count_timer.start()

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(f"{shown:,} of {total:,} orders" if shown != total else f"{total:,} orders")

    def selected_order_id(self) -> str | None:
        index = self.table.currentIndex()
        order = index.data(ORDER_ROLE) if index.isValid() else None
        return order.id if order is not None else None

    # -- persistence ----------------------------------------------------------------------

    def save_state(self, settings: QSettings) -> None:
        settings.setValue("board/header", self.table.horizontalHeader().saveState())
        settings.setValue("board/search", self.search.text())
        settings.setValue("board/status", self.status_filter.currentText())
        settings.setValue("board/pair", self.pair_filter.currentText())
        settings.setValue("board/activeOnly", self.active_only.isChecked())

    def restore_state(self, settings: QSettings) -> None:
        header_state = settings.value("board/header")
        if isinstance(header_state, QByteArray) and not header_state.isEmpty():
            self.table.horizontalHeader().restoreState(header_state)
        self.search.setText(str(settings.value("board/search", "") or ""))
        self.apply_search_now()
        self._select_text(self.status_filter, str(settings.value("board/status", ALL) or ALL))
        self._select_text(self.pair_filter, str(settings.value("board/pair", ALL) or ALL))
        self.active_only.setChecked(str(settings.value("board/activeOnly", "false")).lower() == "true")

    def apply_search_now(self) -> None:
        self._search_timer.stop()
        self.proxy.set_search(self.search.text())

    def restore_default_layout(self) -> None:
        self.table.horizontalHeader().restoreState(self.default_header_state)
        self.search.clear()
        self.apply_search_now()
        self.status_filter.setCurrentIndex(0)
        self.pair_filter.setCurrentIndex(0)
        self.active_only.setChecked(False)

    @staticmethod
    def _select_text(combo: QComboBox, text: str) -> None:
        found = combo.findText(text)
        combo.setCurrentIndex(found if found >= 0 else 0)
