"""Sort keys, status and pair codes, and search text for every order on the board, kept beside the rows.

Everything here is indexed by the order's slot (its arrival number on the board, which never
changes), in typed arrays of 8-byte numbers rather than lists of Python objects: 100,000 keys of a
column cost 800 kB, and numpy reads them without a copy to sort or filter in C. Every column's keys
are kept current as orders arrive and change, so a sort never computes 100,000 keys while the user
waits; for a page of history they are computed off the loop (`prepare_keys` in a worker thread).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.domain import Order
from ui.board.columns import COLUMNS, STATUS_RANK, Column, search_text, text_keys

Slots = npt.NDArray[np.int64]


def _empty_column(column: Column) -> array[Any]:
    return array("q" if column.spec.int_key else "d")


@dataclass(frozen=True, slots=True)
class PreparedKeys:
    """Everything the board keeps per order, computed for a page of orders (pure: safe in a worker thread)."""

    orders: Sequence[Order]
    search: list[str]
    status: array[int]
    columns: dict[Column, array[Any]]


def prepare_keys(orders: Sequence[Order]) -> PreparedKeys:
    columns = {}
    for column in COLUMNS:
        text_value = column.spec.text_value
        if text_value is not None:
            columns[column] = text_keys([text_value(order) or "" for order in orders])
            continue
        keys = _empty_column(column)
        keys.extend(map(column.spec.sort_key, orders))
        columns[column] = keys
    return PreparedKeys(
        orders,
        list(map(search_text, orders)),
        array("b", (STATUS_RANK[order.status] for order in orders)),
        columns,
    )


class BoardKeys:
    def __init__(self) -> None:
        self._columns: dict[Column, array[Any]] = {column: _empty_column(column) for column in COLUMNS}
        self.search: list[str] = []
        self.status = array("b")
        self.pair = array("h")
        self._pair_codes: dict[str, int] = {}

    def _pair_code(self, pair: str) -> int:
        return self._pair_codes.setdefault(pair, len(self._pair_codes))

    def add(self, prepared: PreparedKeys) -> None:
        self.search.extend(prepared.search)
        self.status.extend(prepared.status)
        self.pair.extend(self._pair_code(order.pair) for order in prepared.orders)
        for column, keys in self._columns.items():
            keys.extend(prepared.columns[column])

    def replace(self, slot: int, order: Order) -> None:
        """An order changed: its keys follow."""
        self.search[slot] = search_text(order)
        self.status[slot] = STATUS_RANK[order.status]
        for column, keys in self._columns.items():
            keys[slot] = column.spec.sort_key(order)

    def of(self, column: Column, slots: Slots) -> npt.NDArray[Any]:
        """Keys of `column` for `slots`; a column that moves with the clock is resolved to now."""
        keys = self._columns[column]
        chosen = np.frombuffer(keys, dtype=np.int64 if column.spec.int_key else np.float64)[slots]
        if column.spec.ticks:
            now = datetime.now(UTC).timestamp()
            chosen = np.where(chosen < 0, chosen + now, chosen)
        return chosen

    def status_codes(self, slots: Slots) -> npt.NDArray[np.int8]:
        return np.frombuffer(self.status, dtype=np.int8)[slots]

    def pair_codes(self, slots: Slots) -> npt.NDArray[np.int16]:
        return np.frombuffer(self.pair, dtype=np.int16)[slots]

    def pair_code(self, pair: str) -> int | None:
        return self._pair_codes.get(pair)
