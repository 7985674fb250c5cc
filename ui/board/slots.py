"""The order board's rows without Qt: every order in a slot that never changes, in two lanes, with its keys.

Every order gets a slot (its arrival number on the board) that never changes. New orders (`live`,
oldest first, shown reversed on top) and older history pages (`history`, newest first, shown
below) never shift another order's slot, so an update costs a dict lookup; with no sort and no
filter a row's slot is arithmetic (`natural_slot`, `natural_row`). The board's model
(ui/board/model.py) turns this into Qt rows, sorted and filtered; kept apart so the bookkeeping
of what the board holds is plain data, and the model keeps to what Qt asks.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Sequence

from engine.model.domain import Order, OrderStatus
from ui.board.context import BoardContext
from ui.board.keys import BoardKeys, PreparedKeys, prepare_keys
from ui.order_rows import STATUSES, OrderRows


def prepare_page(older: Sequence[Order]) -> PreparedKeys:
    """A page of history with its keys computed: pure, so the desk runs it in a worker thread."""
    return prepare_keys([order.evolve(logs=()) if order.logs else order for order in older])


class BoardSlots:
    """Every order on the board by slot, the two lanes that order them, their sort keys and status counts."""

    def __init__(self, context: BoardContext) -> None:
        self.context = context
        self.orders = OrderRows()  # by slot: finished orders packed as columns, built when shown
        self.slot: dict[str, int] = {}
        # Typed arrays, not lists: 8 bytes a row instead of ~36 (a pointer and an int object).
        self.live = array("q")  # slots of new orders, oldest first (shown reversed, on top)
        self.history = array("q")  # slots of stored orders, newest first (shown below)
        self.lane = array("q")  # per slot: live index i as -(i + 1), history index h as h
        self.keys = BoardKeys()
        self.status_counts: Counter[OrderStatus] = Counter()
        self.max_seq = 0

    def __len__(self) -> int:
        return len(self.orders)

    def natural_slot(self, row: int) -> int:
        """The slot shown at `row` with no sort and no filter (newest first)."""
        live = len(self.live)
        return self.live[live - 1 - row] if row < live else self.history[row - live]

    def natural_row(self, slot: int) -> int:
        """The row `slot` is shown at with no sort and no filter."""
        lane = self.lane[slot]
        return len(self.live) + lane if lane >= 0 else len(self.live) - 1 - (-lane - 1)

    def add_live(self, orders: Sequence[Order]) -> list[int]:
        """New orders, on top; returns their slots."""
        return self._store(orders, self.live)

    def add_history(self, prepared: PreparedKeys) -> list[int]:
        """A page of stored orders (packed in a worker thread), below everything; returns their slots."""
        return self._store((), self.history, prepared)

    def _store(self, orders: Sequence[Order], lane: array[int], prepared: PreparedKeys | None = None) -> list[int]:
        """Give each order a slot on `lane` (the live or the history list); returns the slots.

        `prepared` carries the orders already packed (a history page, packed in a worker thread).
        """
        prepared = prepared or prepare_keys(orders)
        rows = prepared.rows
        first = self.orders.absorb(rows)
        count = len(rows)
        slots = list(range(first, first + count))
        start = len(lane)
        self.slot.update(zip(rows.ids, slots, strict=True))
        lane.extend(slots)
        if lane is self.live:
            self.lane.extend(-(index + 1) for index in range(start, start + count))
        else:
            self.lane.extend(range(start, start + count))
        self.keys.add(prepared)
        for order in rows.running.values():
            self.context.queue.track(None, order)
        for code, many in Counter(rows.status).items():
            self.status_counts[STATUSES[code]] += many
        if count:
            self.max_seq = max(self.max_seq, max(rows.seq))
        return slots

    def replace(self, slot: int, order: Order) -> Order:
        """Put a newer state of the order in `slot` in place; returns the state it replaced."""
        before = self.orders[slot]
        self.orders[slot] = order
        self.keys.replace(slot, before, order)
        self.context.queue.track(before, order)
        if before.status is not order.status:
            self.status_counts[before.status] -= 1
            self.status_counts[order.status] += 1
        self.max_seq = max(self.max_seq, order.seq)
        return before
