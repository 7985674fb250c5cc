"""A finished order's cells, formatted once: every text and colour of its row as one tuple each.

Qt asks the model for each visible cell, role by role, on every repaint (a sort, a filter, a
scroll, a selection, the once-a-second tick). Formatting a row's decimals and times for each of
those asks was most of the model's part of a paint; a finished order's cells never change (its
status, price and elapsed time are final), so its row is formatted once and kept, keyed by the
snapshot it was made from (a new snapshot of the order simply misses). Orders still running are
formatted per ask, since their waiting times and queue places move with the clock. The cache is
bounded: it holds the rows recently painted, never the whole board.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from engine.model.domain import Order
from ui.board.columns import COLUMNS, local_today
from ui.board.context import BoardContext

ROWS_KEPT = 4096  # a few screens of rows; cleared whole when full (cheaper than tracking ages)

Cells = tuple[tuple[str, ...], tuple[Any, ...]]  # (texts, colours) by column
C = TypeVar("C")


class RowCells(Generic[C]):
    """Kept cells of finished orders' rows, for any table of orders: its columns' texts and colours,
    each a function of the order and the table's `context` (None: the column has no colour)."""

    def __init__(
        self,
        context: C,
        display: Sequence[Callable[[Order, C], str]],
        colours: Sequence[Callable[[Order, C], Any] | None],
    ) -> None:
        self._context = context
        self._rows: dict[int, tuple[Order, Cells]] = {}
        self._day = local_today()
        self._display = tuple(display)
        self._colours = tuple(colours)

    @staticmethod
    def for_board(context: BoardContext) -> RowCells[BoardContext]:
        """The board's: every column of ui/board/columns.py."""
        return RowCells(
            context,
            [column.spec.display for column in COLUMNS],
            [column.spec.colour for column in COLUMNS],
        )

    def of(self, slot: int, order: Order) -> Cells | None:
        """The row's cells when `order` is finished (made now if need be); None for a running order."""
        kept = self._rows.get(slot)
        if kept is not None and kept[0] is order:
            return kept[1]
        if not order.is_terminal:
            return None
        context = self._context
        cells = (
            tuple(display(order, context) for display in self._display),
            tuple(None if colour is None else colour(order, context) for colour in self._colours),
        )
        if len(self._rows) >= ROWS_KEPT:
            self._rows.clear()
        self._rows[slot] = (order, cells)
        return cells

    def check_day(self) -> bool:
        """Today's orders show a time, older ones a date: at midnight every kept Time cell is stale
        (True then: the rows on screen must be painted again)."""
        today = local_today()
        if today == self._day:
            return False
        self._day = today
        self._rows.clear()
        return True
