"""Sort keys, status, pair, side and venue codes for every order on the board, kept beside the rows.

Everything here is indexed by the order's slot (its arrival number on the board, which never
changes), in typed arrays of 8-byte numbers rather than lists of Python objects: 100,000 keys of a
column cost 800 kB, and numpy reads them without a copy to sort or filter in C. Every column's keys
are kept current as orders arrive and change, so a sort never computes 100,000 keys while the user
waits; for a page of history they are computed off the loop (`prepare_keys` in a worker thread).
"""

from __future__ import annotations

import string
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.model.domain import Direction, Order, OrderStatus, OrderType
from engine.model.execution_figures import slippage_bps
from ui.board.columns import COLUMNS, EMPTY_NUMBER, STATUS_RANK, Column, text_key, text_keys
from ui.order_rows import (
    DIRECTION_TEXTS,
    DIRECTIONS,
    NO_EXPONENT,
    VENUE_TEXTS,
    VENUES,
    OrderRows,
    exact_float,
)

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

    rows: OrderRows  # the orders themselves, packed (ui/order_rows.py): the page's `Order`s need not live on
    status: array[int]
    columns: dict[Column, array[Any]]
    categories: dict[str, list[str]]
    id_chars: frozenset[str]  # every character of their ids (see `BoardKeys.search`)
    hash_chars: frozenset[str]
    hashes: list[str]  # each tx hash, "" for none (what the search scans)


def prepare_keys(orders: Sequence[Order]) -> PreparedKeys:
    rows = OrderRows()
    rows.extend(orders)
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
        rows,
        array("b", (STATUS_RANK[order.status] for order in orders)),
        columns,
        {name: list(map(value, orders)) for name, value in CATEGORIES.items()},
        frozenset("".join(order.id for order in orders)),
        frozenset("".join(order.tx_hash or "" for order in orders)),
        [order.tx_hash or "" for order in orders],
    )


_DECIMAL_DIGITS = 10**28  # a Decimal product of fewer digits is exact in the default context
_BUY = DIRECTIONS.index(Direction.BUY)


def prepare_packed(rows: OrderRows) -> PreparedKeys:
    """`prepare_keys` for a page already packed (read as columns): each column's keys from the columns,
    with no `Order` built except for the few orders still running (a test holds both to each other)."""
    status = np.frombuffer(rows.status, dtype=np.int8)
    finished = np.frombuffer(rows.status, dtype=np.int8) >= STATUS_RANK[OrderStatus.CONFIRMED]
    confirmed = status == STATUS_RANK[OrderStatus.CONFIRMED]
    created = np.frombuffer(rows.created, dtype=np.int64)
    updated = np.frombuffer(rows.updated, dtype=np.int64)
    hashes = [tx_hash or "" for tx_hash in rows.tx_hashes]
    amounts = rows.amount.floats(EMPTY_NUMBER)
    prices = rows.price.floats(EMPTY_NUMBER)
    sides = [DIRECTION_TEXTS[code] for code in rows.direction]
    venues = [VENUE_TEXTS[code] for code in rows.venue]
    shown_venues = venues.copy()  # a split names each venue of its legs (`venue_of`)
    for row in rows.odd_routes:
        shown_venues[row] = venue_of(rows, row) or ""
    keys: dict[Column, Any] = {
        Column.TIME: created / 1e6,
        Column.ID: text_keys(rows.ids),
        Column.PAIR: text_keys(rows.pairs),
        Column.SIDE: text_keys(sides),
        Column.AMOUNT: amounts,
        Column.STATUS: status.astype(np.float64),
        Column.VENUE: text_keys(shown_venues),
        Column.PRICE: prices,
        Column.NOTIONAL: _notionals(rows, confirmed),
        Column.SLIPPAGE: _slippages(rows, confirmed),
        Column.TX_HASH: text_keys(hashes),
        Column.ATTEMPTS: np.frombuffer(rows.attempts, dtype=np.int16).astype(np.float64),
        Column.ELAPSED: np.where(finished, np.maximum(0.0, (updated - created) / 1e6), -created / 1e6),
        Column.ERROR: text_keys([error or "" for error in rows.errors]),
        Column.USER: text_keys([label or "" for label in rows.labels]),
    }
    columns: dict[Column, array[Any]] = {}
    for column in COLUMNS:
        kept = keys[column]
        if isinstance(kept, array):
            columns[column] = kept
        else:
            columns[column] = _empty_column(column)
            columns[column].frombytes(np.ascontiguousarray(kept, dtype=np.float64).tobytes())
    for row, order in rows.running.items():  # the few still running: from their whole `Order`
        for column in COLUMNS:
            spec = column.spec
            columns[column][row] = text_key(spec.text_value(order)) if spec.text_value else spec.sort_key(order)
    return PreparedKeys(
        rows,
        array("b", rows.status),
        columns,
        {"pair": rows.pairs, "side": sides, "venue": venues},
        _characters(rows.ids),
        _characters(hashes),
        hashes,
    )


def venue_of(rows: OrderRows, row: int) -> str | None:
    """`venue_text` of a packed row: a split names each venue of its legs."""
    route = rows.odd_routes.get(row)
    if route is not None and route.legs:
        return "+".join(dict.fromkeys(str(leg.venue) for leg in route.legs))
    code = rows.venue[row]
    return VENUES[code].value if code >= 0 else None


_USUAL_CHARACTERS = string.ascii_letters + string.digits + "-"  # ids (UUIDs) and tx hashes (base58) are made of these
_WITHOUT_USUAL = str.maketrans("", "", _USUAL_CHARACTERS)


def _characters(texts: list[str]) -> frozenset[str]:
    """Every character of `texts`.

    Each usual character is looked for in the texts joined (a C scan), and only what is left once
    they are deleted is walked one by one: a set of every character of 100,000 ids and tx hashes,
    made a character at a time, took 0.16 s of the history load. (Counting bytes with numpy was as
    fast, but its copy of the texts, 176 kB a slice, raised glibc's mmap threshold and left the desk
    13 MB bigger.)
    """
    joined = "".join(texts)
    return frozenset(char for char in _USUAL_CHARACTERS if char in joined) | frozenset(joined.translate(_WITHOUT_USUAL))


def _notionals(rows: OrderRows, confirmed: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """float(amount × price) of each CONFIRMED row, in integers (a Decimal product is exact to 28 digits)."""
    values = np.full(len(rows), EMPTY_NUMBER)
    amount, price = rows.amount, rows.price
    for row in np.flatnonzero(confirmed).tolist():
        price_exponent = price.exponents[row]
        if price_exponent == NO_EXPONENT or row in amount.odd:
            if row in price.odd or row in amount.odd:
                values[row] = float(amount.get(row) * price.get(row))  # type: ignore[operator]
            continue
        product = amount.coefficients[row] * price.coefficients[row]
        if abs(product) < _DECIMAL_DIGITS:
            values[row] = exact_float(product, amount.exponents[row] + price_exponent)
        else:
            values[row] = float(amount.get(row) * price.get(row))  # type: ignore[operator]
    return values


def _slippages(rows: OrderRows, confirmed: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """`slippage_bps` of each CONFIRMED row against the price it was sent at (`sent_price`)."""
    values = np.full(len(rows), EMPTY_NUMBER)
    for row in np.flatnonzero(confirmed).tolist():
        terms = rows.odd_terms.get(row)
        if terms is not None and terms.type is OrderType.LIMIT and terms.price_bound is not None:
            sent = terms.price_bound
        elif terms is not None and terms.quoted_price is not None:
            sent = terms.quoted_price
        elif terms is None and rows.quoted.exponents[row] != NO_EXPONENT:
            bps = _tenths_of_bps(rows, row)
            if bps is not None:
                values[row] = bps
            continue
        else:
            route = rows.odd_routes.get(row)
            sent = route.quoted_price if route is not None else rows.route_quote.get(row)  # type: ignore[assignment]
        bps_decimal = slippage_bps(DIRECTIONS[rows.direction[row]], sent, rows.price.get(row))
        if bps_decimal is not None:
            values[row] = float(bps_decimal)
    return values


def _tenths_of_bps(rows: OrderRows, row: int) -> float | None:
    """`slippage_bps` against the stored quote in integers: the executed and quoted prices on one exponent,
    (executed − quoted) / quoted in tenths of a bp rounded half to even, as the Decimal quantize does."""
    quoted, price = rows.quoted, rows.price
    if price.exponents[row] == NO_EXPONENT:
        return None
    executed, quote = price.coefficients[row], quoted.coefficients[row]
    shift = price.exponents[row] - quoted.exponents[row]
    if shift > 0:
        executed *= 10**shift
    else:
        quote *= 10**-shift
    if quote <= 0:  # never from the engine; the Decimal definition decides
        bps = slippage_bps(DIRECTIONS[rows.direction[row]], quoted.get(row), price.get(row))
        return None if bps is None else float(bps)
    worse = executed - quote if rows.direction[row] == _BUY else quote - executed
    tenths, rest = divmod(worse * 100_000, quote)
    if 2 * rest > quote or (2 * rest == quote and tenths % 2):
        tenths += 1
    return tenths / 10


class Category:
    """A few distinct texts (pairs, sides, venues) stored as small codes, one byte pair per order."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.per_slot = array("h")

    def code(self, text: str) -> int:
        return self.codes.setdefault(text, len(self.codes))

    def extend(self, texts: list[str]) -> None:
        """The codes of many orders' texts: the few distinct ones coded first, then all read in C."""
        for text in set(texts):
            self.code(text)
        self.per_slot.extend(map(self.codes.__getitem__, texts))

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
        rows = prepared.rows
        self.ids.extend(rows.ids)
        self.hashes.extend(prepared.hashes)
        self.id_chars |= prepared.id_chars
        self.hash_chars |= prepared.hash_chars
        self.status.extend(prepared.status)
        for name, category in self.categories.items():
            category.extend(prepared.categories[name])
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
