"""The order board widget: the filter bar above a table view, status chips, live waiting times.

Cells that read the clock (elapsed times, retry countdowns) or the queue (queue places) are
repainted once a second for the rows on screen only, by the view, so a ticking clock never makes
the model re-sort or re-filter.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QByteArray, QModelIndex, QPersistentModelIndex, QRectF, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.model.domain import OrderStatus
from engine.model.outcomes import is_neutral_end
from engine.trading.pairs import PairCatalog
from ui.board.actions import BoardActions
from ui.board.columns import RUNNING_STATES, is_retrying
from ui.board.filter import BoardFilter
from ui.board.filter_bar import ALL, FilterBar
from ui.board.model import COLUMNS, ORDER_ROLE, BoardModel, Column
from ui.bridge import EngineBridge
from ui.theme import ERROR_TEXT, MUTED_TEXT, NEUTRAL_END_COLOR, STATUS_COLORS, monospace_font

RETRY_COLOR = QColor("#d9771f")  # orange: failed once, not FAILED (red), not a fresh PENDING (amber)
EMPTY_BOARD = (
    "No orders yet.\n\n"
    "Type an amount in the ticket and press Enter to buy;\n"
    "Order → Burst… (Ctrl+Shift+B) loads the queue with many at once."
)
NOTHING_MATCHES = "No order matches the filters.\n\nPress Esc in the search box or click “Clear filters”."


class StatusChipDelegate(QStyledItemDelegate):
    """The status as a rounded coloured chip, with what a waiting order waits for written beside it."""

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
        retrying = is_retrying(order)
        text = str(index.data())
        if retrying:  # not a fresh PENDING: an amber-red RETRY chip, then "2 of 3 in 3 s"
            label, detail = "RETRY", text.removeprefix("retry ")
        else:
            label, _, detail = text.partition(" ")
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        cell = QRectF(option.rect)
        rect = cell.adjusted(4, 3, -4, -3)
        metrics = option.fontMetrics
        # One chip width for every status, so the column reads as a clean stripe of colour.
        rect.setWidth(min(rect.width(), metrics.horizontalAdvance("SUBMITTED") + 14))
        painter.setPen(Qt.PenStyle.NoPen)
        neutral = is_neutral_end(order)  # expired or cancelled: grey, not a failure's red
        painter.setBrush(RETRY_COLOR if retrying else NEUTRAL_END_COLOR if neutral else STATUS_COLORS[order.status])
        if order.status in RUNNING_STATES:
            painter.setPen(Qt.GlobalColor.white)  # in flight: outlined, so the few running rows stand out
        painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
        painter.setPen(Qt.GlobalColor.white)
        font = painter.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 0.85)
        painter.setFont(font)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
        if detail:
            painter.setFont(option.font)
            painter.setPen(ERROR_TEXT if order.status is OrderStatus.FAILED and not neutral else MUTED_TEXT)
            rest = cell.adjusted(rect.width() + 10, 0, -2, 0)
            elided = painter.fontMetrics().elidedText(detail, Qt.TextElideMode.ElideRight, int(rest.width()))
            painter.drawText(rest, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, elided)
        painter.restore()


class BoardTable(QTableView):
    """Enter on a row opens it, as double-click does; an empty board says what to do."""

    activated_order = Signal(str)
    empty_text = EMPTY_BOARD

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self._open(self.currentIndex())
            return
        super().keyPressEvent(event)

    def _open(self, index: QModelIndex | QPersistentModelIndex) -> None:
        order = index.data(ORDER_ROLE)
        if order is not None:
            self.activated_order.emit(order.id)

    def dataChanged(
        self,
        top_left: QModelIndex | QPersistentModelIndex,
        bottom_right: QModelIndex | QPersistentModelIndex,
        roles: Sequence[int] = (),
    ) -> None:
        """Repaint only the changed rows that are on screen.

        QAbstractItemView repaints the whole viewport for any change wider than one cell, even for
        rows scrolled far out of sight: while 20,000 orders stream, a third of the loop went to
        painting the board for changes nobody could see (py-spy of the board bench's stream).
        """
        viewport = self.viewport()
        first, last = self.rowAt(0), self.rowAt(viewport.height() - 1)
        if first < 0:
            return
        if last < 0:
            last = self.model().rowCount() - 1
        top, bottom = max(top_left.row(), first), min(bottom_right.row(), last)
        if top > bottom:
            return
        y = self.rowViewportPosition(top)
        viewport.update(0, y, viewport.width(), self.rowViewportPosition(bottom) + self.rowHeight(bottom) - y)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is None or model.rowCount() > 0:
            return
        painter = QPainter(self.viewport())
        painter.setPen(MUTED_TEXT)
        area = self.viewport().rect().adjusted(24, 24, -24, -24)
        painter.drawText(area, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, self.empty_text)
        painter.end()


class BoardView(QWidget):
    """The board with its filter bar; `open_order`/`cancel_order` ask the window to act on an order."""

    open_order = Signal(str)
    cancel_order = Signal(str)
    notice = Signal(str)  # one line for the status bar

    def __init__(self, catalog: PairCatalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = BoardModel(catalog, self)
        self.filters = FilterBar(catalog, self)
        self.search = self.filters.search
        self.active_only = self.filters.active_only

        self.table = BoardTable()
        self.table.setModel(self.model)
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
        self._apply_default_columns()
        self.table.setSortingEnabled(True)
        header.setSortIndicator(Column.TIME.index, Qt.SortOrder.DescendingOrder)
        self.default_header_state = header.saveState()
        self.row_actions = BoardActions(self.table, self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.filters)
        layout.addWidget(self.table)

        self.filters.changed.connect(self._filter_chosen)
        self.table.doubleClicked.connect(self.table._open)
        self.table.activated_order.connect(self.open_order)
        self.row_actions.open_order.connect(self.open_order)
        self.row_actions.cancel_order.connect(self.cancel_order)
        self.row_actions.copied.connect(self.notice)
        for signal in (self.model.rowsInserted, self.model.modelReset, self.model.layoutChanged):
            signal.connect(self._count_later)
        self.model.counts_changed.connect(self._count_later)

        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._tick_visible)
        self._tick.start()
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(100)
        self._count_timer.timeout.connect(self._update_count)
        self._restored_filters = False
        self._update_count()

    # -- filters --------------------------------------------------------------------------

    @property
    def filter(self) -> BoardFilter:
        return self.model.filter

    def _filter_chosen(self, chosen: BoardFilter) -> None:
        self.model.set_filter(chosen)
        self.table.empty_text = NOTHING_MATCHES if chosen.is_filtering else EMPTY_BOARD
        self._update_count()

    def show_statuses(self, statuses: set[OrderStatus] | frozenset[OrderStatus]) -> None:
        self.filters.set_statuses(frozenset(statuses))

    def apply_search_now(self) -> None:
        self.filters.apply_search_now()

    def clear_filters(self) -> None:
        self.filters.clear_all()

    def visible_orders(self) -> list:  # type: ignore[type-arg]
        return self.model.visible_orders()

    # -- the clock and the counts ---------------------------------------------------------

    def _apply_default_columns(self) -> None:
        header = self.table.horizontalHeader()
        for column in COLUMNS:
            header.setSectionHidden(column.index, False)
            header.resizeSection(column.index, column.spec.width)
        # On screen the Id follows Slip.: at 1366×768 the board is ~960 px wide, and Time through
        # Slip. (what a trader reads while orders run) fit it only without the Id; the Id, Tx hash and
        # the rest are a scroll to the right. The model's columns keep their order (copy, CSV).
        header.moveSection(header.visualIndex(Column.ID.index), header.visualIndex(Column.SLIPPAGE.index))

    def _tick_visible(self) -> None:
        """Waiting times, retry countdowns and queue places move on their own: repaint the rows on screen."""
        if not self.isVisible() or self.model.rowCount() == 0:
            return
        viewport = self.table.viewport()
        first = self.table.rowAt(0)
        last = self.table.rowAt(viewport.height() - 1)
        self.model.refresh_rows(max(first, 0), last if last >= 0 else self.model.rowCount() - 1)

    def _count_later(self) -> None:
        if not self._count_timer.isActive():
            self._count_timer.start()

    def _update_count(self) -> None:
        counts = self.model.status_counts
        running = sum(counts[status] for status in RUNNING_STATES)
        self.filters.show_counts(self.model.rowCount(), self.model.total, running)

    def history_loaded(self) -> None:
        """Filters restored at launch are announced once the whole history is on the board."""
        self._update_count()
        if self._restored_filters and self.filter.is_filtering:
            self._restored_filters = False
            shown, total = self.model.rowCount(), self.model.total
            described = ", ".join(self.filter.describe())
            self.notice.emit(f"Showing {shown:,} of {total:,} — filters on ({described}); Esc in the search clears")

    def follow(self, bridge: EngineBridge) -> None:
        """Subscribe the board to the engine's coalesced updates (one batch per frame)."""
        bridge.orders_changed.connect(self.model.apply)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def selected_order_id(self) -> str | None:
        index = self.table.currentIndex()
        order = index.data(ORDER_ROLE) if index.isValid() else None
        return order.id if order is not None else None

    # -- persistence ----------------------------------------------------------------------

    def save_state(self, settings: QSettings) -> None:
        chosen = self.filters.current()
        settings.setValue("board/header", self.table.horizontalHeader().saveState())
        settings.setValue("board/search", self.search.text())
        settings.setValue("board/statuses", ",".join(str(s) for s in OrderStatus if s in chosen.statuses))
        settings.setValue("board/pair", chosen.pair or ALL)
        settings.setValue("board/activeOnly", chosen.active_only)

    def restore_state(self, settings: QSettings) -> None:
        header_state = settings.value("board/header")
        if isinstance(header_state, QByteArray) and not header_state.isEmpty():
            self.table.horizontalHeader().restoreState(header_state)
        names = str(settings.value("board/statuses", "") or settings.value("board/status", "") or "")
        statuses = frozenset(OrderStatus(name) for name in names.split(",") if name in OrderStatus.__members__)
        pair = str(settings.value("board/pair", ALL) or ALL)
        search = str(settings.value("board/search", "") or "")
        chosen = BoardFilter(
            search=search.strip().lower(),
            statuses=statuses,
            pair=None if pair == ALL else pair,
            active_only=str(settings.value("board/activeOnly", "false")).lower() == "true",
        )
        self.filters.set_filter(chosen, search_text=search)
        self._restored_filters = self.filter.is_filtering

    def restore_default_layout(self) -> None:
        self.table.horizontalHeader().restoreState(self.default_header_state)
        self.filters.clear_all()
