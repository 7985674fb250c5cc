"""What the board shows: a one-line search over id, pair and txHash, status and pair filters, active only.

Filtering stays in QSortFilterProxyModel (it keeps selections and scroll position right through
inserts); sorting is passed to the source model, which sorts with Python keys far faster than
the proxy's per-comparison `data()` calls could.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel, Qt

from engine.domain import ACTIVE_STATES, Order, OrderStatus
from ui.board_model import BoardModel


class BoardFilter(QSortFilterProxyModel):
    def __init__(self, board: BoardModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.board = board
        self.setSourceModel(board)
        self.setDynamicSortFilter(True)
        self._search = ""
        self._status: OrderStatus | None = None
        self._pair: str | None = None
        self._active_only = False

    # -- the filters ----------------------------------------------------------------------

    @property
    def search(self) -> str:
        return self._search

    @property
    def status(self) -> OrderStatus | None:
        return self._status

    @property
    def pair(self) -> str | None:
        return self._pair

    @property
    def active_only(self) -> bool:
        return self._active_only

    @property
    def is_filtering(self) -> bool:
        return bool(self._search or self._status or self._pair or self._active_only)

    def set_search(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "_search", text.strip().lower()))

    def set_status(self, status: OrderStatus | None) -> None:
        self._refilter(lambda: setattr(self, "_status", status))

    def set_pair(self, pair: str | None) -> None:
        self._refilter(lambda: setattr(self, "_pair", pair))

    def set_active_only(self, active_only: bool) -> None:
        self._refilter(lambda: setattr(self, "_active_only", active_only))

    def _refilter(self, change: object) -> None:
        # Qt 6.9+ wants begin/end around a filter change so views keep their state.
        begin = getattr(self, "beginFilterChange", None)
        if begin is not None:
            begin()
        change()  # type: ignore[operator]
        end = getattr(self, "endFilterChange", None)
        if end is not None:
            end()
        else:
            self.invalidateFilter()

    def accepts(self, order: Order) -> bool:
        if self._status is not None and order.status != self._status:
            return False
        if self._pair is not None and order.pair != self._pair:
            return False
        if self._active_only and order.status not in ACTIVE_STATES:
            return False
        if self._search:
            needle = self._search
            return (
                order.id.startswith(needle)
                or needle in order.pair.lower()
                or (order.tx_hash is not None and needle in order.tx_hash.lower())
            )
        return True

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        if not self.is_filtering:
            return True
        return self.accepts(self.board.order_at(source_row))

    # -- sorting goes to the source -------------------------------------------------------

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.board.sort(column, order)

    # -- reading what is shown ------------------------------------------------------------

    def order_at(self, row: int) -> Order:
        return self.board.order_at(self.mapToSource(self.index(row, 0)).row())

    def visible_orders(self) -> list[Order]:
        """The orders the board shows, top to bottom (what "export what the board shows" writes)."""
        return [self.order_at(row) for row in range(self.rowCount())]
