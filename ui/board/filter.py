"""What the board shows: a one-line search over id, pair and txHash, status and pair filters, active only.

Filtering stays in QSortFilterProxyModel (it keeps selections and scroll position right through
inserts); sorting is passed to the source model, which sorts cached keys far faster than the
proxy's per-comparison `data()` calls could.

A filter change re-runs `filterAcceptsRow` for every row, so it is kept to a flag test when
nothing filters and to plain string tests over lower-cased text the model keeps per order
otherwise. The change is announced with `invalidate()` (one layout change), not
`invalidateFilter()`/`endFilterChange()`: those announce every removed or inserted run of rows
separately, which on 100,000 scattered rows cost seconds; `invalidate()` keeps the selection
and current row the same way, through persistent indexes.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel, Qt

from engine.domain import ACTIVE_STATES, Order, OrderStatus
from ui.board.model import BoardModel


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
        self._filtering = False

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

    def _refilter(self, change: Callable[[], object]) -> None:
        before = (self._search, self._status, self._pair, self._active_only)
        change()
        if (self._search, self._status, self._pair, self._active_only) == before:
            return
        self._filtering = self.is_filtering
        self.invalidate()

    def accepts(self, order: Order, search_text: str | None = None) -> bool:
        """`search_text` is the model's lower-cased pair and tx hash of the order (made here if not given)."""
        if self._status is not None and order.status != self._status:
            return False
        if self._pair is not None and order.pair != self._pair:
            return False
        if self._active_only and order.status not in ACTIVE_STATES:
            return False
        if self._search:
            needle = self._search
            if order.id.startswith(needle):
                return True
            if search_text is None:
                search_text = f"{order.pair.lower()}\x1f{(order.tx_hash or '').lower()}"
            return needle in search_text
        return True

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        if not self._filtering:
            return True
        board = self.board
        return self.accepts(board.order_at(source_row), board.search_text_at(source_row) if self._search else None)

    # -- sorting goes to the source -------------------------------------------------------

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.board.sort(column, order)

    # -- reading what is shown ------------------------------------------------------------

    def order_at(self, row: int) -> Order:
        return self.board.order_at(self.mapToSource(self.index(row, 0)).row())

    def visible_orders(self) -> list[Order]:
        """The orders the board shows, top to bottom (what "export what the board shows" writes)."""
        return [self.order_at(row) for row in range(self.rowCount())]
