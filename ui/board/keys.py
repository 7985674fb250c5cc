"""Sort keys, status, pair, side and venue codes for every order on the board, kept beside the rows.

Everything here is indexed by the order's slot (its arrival number on the board, which never
changes), in typed arrays of 8-byte numbers rather than lists of Python objects: 100,000 keys of a
column cost 800 kB, and numpy reads them without a copy to sort or filter in C. Every column's keys
are kept current as orders arrive and change, so a sort never computes 100,000 keys while the user
waits; for a page of history they are computed off the loop (`prepare_keys` in a worker thread).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.model.domain import Order
from ui.board.columns import COLUMNS, STATUS_RANK, Column, text_keys

Slots = npt.NDArray[np.int64]


def _empty_column(column: Column) -> array[Any]:
    return array("q" if column.spec.int_key else "d")


CATEGORIES: dict[str, Callable[[Order], str]] = {
    "pair": lambda order: order.pair,
    "side": lambda order: order.direction.value,
    "venue": lambda order: order.dex.value if order.dex else "",
}


@dataclass(frozen=True, slots=True)
class PreparedKeys:
    """Everything the board keeps per order, computed for a page of orders (pure: safe in a worker thread)."""

    orders: Sequence[Order]
    status: array[int]
    columns: dict[Column, array[Any]]
    categories: dict[str, list[str]]
    id_chars: frozenset[str]  # every character of their ids (see `BoardKeys.search`)
    hash_chars: frozenset[str]


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
        array("b", (STATUS_RANK[order.status] for order in orders)),
        columns,
        {name: list(map(value, orders)) for name, value in CATEGORIES.items()},
        frozenset("".join(order.id for order in orders)),
        frozenset("".join(order.tx_hash or "" for order in orders)),
    )


class Category:
    """A few distinct texts (pairs, sides, venues) stored as small codes, one byte pair per order."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.per_slot = array("h")

    def code(self, text: str) -> int:
        return self.codes.setdefault(text, len(self.codes))

    def matching(self, needle: str) -> list[int]:
        return [code for text, code in self.codes.items() if needle in text.lower()]

    def of(self, slots: Slots) -> npt.NDArray[np.int16]:
        return np.frombuffer(self.per_slot, dtype=np.int16)[slots]


class BoardKeys:
    """Per-slot keys. The search needs no text of its own per order: ids and hashes are the orders'
    own strings (referenced, not copied), and pair, side and venue are matched through their codes."""

    def __init__(self) -> None:
        self._columns: dict[Column, array[Any]] = {column: _empty_column(column) for column in COLUMNS}
        self.status = array("b")
        self.categories = {name: Category() for name in CATEGORIES}
        self.ids: list[str] = []
        self.hashes: list[str] = []
        # Every character some id (some hash) has: a search with any other character cannot
        # match one, and skips the scan of 100,000 ids (hashes), ~40 % of a search's time each.
        self.id_chars: set[str] = set()
        self.hash_chars: set[str] = set()

    def add(self, prepared: PreparedKeys) -> None:
        orders = prepared.orders
        self.ids.extend(order.id for order in orders)
        self.hashes.extend(order.tx_hash or "" for order in orders)
        self.id_chars |= prepared.id_chars
        self.hash_chars |= prepared.hash_chars
        self.status.extend(prepared.status)
        for name, category in self.categories.items():
            category.per_slot.extend(map(category.code, prepared.categories[name]))
        for column, keys in self._columns.items():
            keys.extend(prepared.columns[column])

    def replace(self, slot: int, before: Order, order: Order) -> None:
        """An order changed: its keys follow (only those of columns whose value can change)."""
        self.hashes[slot] = order.tx_hash or ""
        if order.tx_hash and order.tx_hash is not before.tx_hash:
            self.hash_chars.update(order.tx_hash)
        self.status[slot] = STATUS_RANK[order.status]
        if before.dex != order.dex:
            venue = self.categories["venue"]
            venue.per_slot[slot] = venue.code(CATEGORIES["venue"](order))
        for column, keys in self._columns.items():
            if not column.spec.fixed:
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

    def search(self, slots: Slots, typed: str) -> list[int]:
        """The slots (in order) whose id, pair, side or venue contains `typed` in any case, or whose
        tx hash contains it exactly (base58 is case-sensitive): numpy for the coded texts, then one
        comprehension over the ids and hashes of the rest."""
        needle = typed.lower()
        hit = np.zeros(len(slots), dtype=bool)
        for category in self.categories.values():
            codes = category.matching(needle)
            if codes:
                hit |= np.isin(category.of(slots), codes)
        ids, hashes = self.ids, self.hashes
        in_ids, in_hashes = self.id_chars.issuperset(needle), self.hash_chars.issuperset(typed)
        if in_ids or in_hashes:
            rest = np.flatnonzero(~hit)
            candidates = slots[rest].tolist()
            if in_ids and in_hashes:
                found = [needle in ids[slot] or typed in hashes[slot] for slot in candidates]
            elif in_ids:
                found = [needle in ids[slot] for slot in candidates]
            else:
                found = [typed in hashes[slot] for slot in candidates]
            hit[rest[np.array(found, dtype=bool)]] = True  # a mask: `isin` of many matches sorted them all
        return slots[hit].tolist()  # type: ignore[no-any-return]
