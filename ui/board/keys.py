"""Per-column sort keys and search strings for every order on the board, kept beside the rows.

The board stores orders in two lists (`_live` grows oldest-first and is shown reversed on top,
`_history` grows newest-first below it); this cache mirrors those two lists per column, so a sort
is `sorted(range(n), key=keys.__getitem__)` entirely in C instead of calling a Python key per
row. A column's keys are built the first time the board is sorted by it and from then on kept
current as orders arrive and change, so re-sorting a live board never recomputes 100,000 keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from engine.domain import Order
from ui.board.columns import CACHED_KEYS, Column, resolve_elapsed, search_text


class BoardKeys:
    def __init__(self) -> None:
        self._live: dict[Column, list[Any]] = {}
        self._history: dict[Column, list[Any]] = {}
        self.live_search: list[str] = []
        self.history_search: list[str] = []

    def add_live(self, orders: Iterable[Order]) -> None:
        orders = list(orders)
        self.live_search.extend(map(search_text, orders))
        for column, keys in self._live.items():
            keys.extend(map(CACHED_KEYS[column], orders))

    def add_history(self, orders: list[Order]) -> None:
        self.history_search.extend(map(search_text, orders))
        for column, keys in self._history.items():
            keys.extend(map(CACHED_KEYS[column], orders))

    def replace(self, position: int, order: Order) -> None:
        """An order changed: its keys follow (position as the model encodes it: live < 0 <= history)."""
        if position < 0:
            index, search, columns = -position - 1, self.live_search, self._live
        else:
            index, search, columns = position, self.history_search, self._history
        search[index] = search_text(order)
        for column, keys in columns.items():
            keys[index] = CACHED_KEYS[column](order)

    def search_at(self, position: int) -> str:
        return self.live_search[-position - 1] if position < 0 else self.history_search[position]

    def natural(self, column: Column, live: list[Order], history: list[Order]) -> list[Any]:
        """Keys of `column` in the board's natural order (newest first), building the cache if needed."""
        if column not in self._live:
            key = CACHED_KEYS[column]
            self._live[column] = list(map(key, live))
            self._history[column] = list(map(key, history))
        keys = self._live[column][::-1] + self._history[column]
        if column is Column.ELAPSED:
            keys = resolve_elapsed(keys, datetime.now(UTC).timestamp())
        return keys
