"""A page of history read as columns (engine/storage/history_columns.py) packed into `OrderRows` as it is.

Split from ui/order_rows.py: that module packs `Order`s; this one packs what SQLite already parsed,
so an older page never becomes one `Order` per row. It writes exactly what `OrderRows` would write
for the `Order` that `order_from_stored_text` makes of the same row (market terms with the stored
quote, no trigger, no request key): tests/ui/test_history_columns.py holds the two to each other.
"""

from __future__ import annotations

import json
from array import array
from decimal import Decimal

import numpy as np

from engine.model.domain import Route, Venue
from engine.storage.history_columns import HistoryColumns
from ui.order_rows import (
    DIRECTION_CODE,
    NO_EXPONENT,
    NO_TIME,
    NO_VENUE,
    STATUS_CODE,
    VENUE_CODE,
    DecimalColumn,
    OrderRows,
    intern_text,
)

NAN = float("nan")
_STATUS_OF_TEXT = {str(status): code for status, code in STATUS_CODE.items()}
_DIRECTION_OF_TEXT = {str(direction): code for direction, code in DIRECTION_CODE.items()}
_VENUE_OF_TEXT: dict[str | None, int] = {None: -1, **{str(venue): code for venue, code in VENUE_CODE.items()}}


def _micros_of_ms(milliseconds: tuple[int, ...]) -> array[int]:
    micros = array("q", milliseconds)
    if micros:
        values = np.frombuffer(micros, dtype=np.int64)
        values *= 1000
        del values
    return micros


def _decimals(
    coefficients: tuple[int | None, ...], exponents: tuple[int, ...], texts: tuple[str | None, ...]
) -> DecimalColumn:
    """A decimal column from SQLite's split (coefficient NULL: the exact text, or no value at all)."""
    column = DecimalColumn()
    column.coefficients = array("q", (0 if value is None else value for value in coefficients))
    column.exponents = array(
        "b",
        (
            NO_EXPONENT if coefficient is None else exponent
            for coefficient, exponent in zip(coefficients, exponents, strict=True)
        ),
    )
    column.odd = {
        row: Decimal(text)
        for row, (coefficient, text) in enumerate(zip(coefficients, texts, strict=True))
        if coefficient is None and text is not None
    }
    return column


def rows_from_history(page: HistoryColumns) -> OrderRows:
    """A page read as columns (engine/storage/history_columns.py), packed without an `Order` per row.

    Builds what `_write` would from the `Order` that `order_from_stored_text` makes of the same
    row (market terms with the stored quote; no trigger, no request key): a test holds the two
    to each other.
    """
    rows = OrderRows()
    count = len(page)
    rows.ids = list(page.ids)
    rows.tx_hashes = list(page.tx_hashes)
    rows.pairs = list(map(intern_text, page.pairs))  # type: ignore[arg-type]
    rows.errors = list(map(intern_text, page.errors))
    rows.owners = list(map(intern_text, page.owners))
    rows.labels = list(map(intern_text, page.labels))
    rows.seq = array("q", page.seq)
    rows.created = _micros_of_ms(page.created_ms)
    rows.updated = _micros_of_ms(page.updated_ms)
    rows.retry_at = array("q", (NO_TIME if ms is None else ms * 1000 for ms in page.retry_ms))
    rows.status = array("b", map(_STATUS_OF_TEXT.__getitem__, page.statuses))
    rows.direction = array("b", map(_DIRECTION_OF_TEXT.__getitem__, page.directions))
    rows.venue = array("b", map(_VENUE_OF_TEXT.__getitem__, page.venues))
    rows.route_venue = array("b", [NO_VENUE]) * count
    rows.attempts = array("h", page.attempts)
    rows.version = array("q", page.versions)
    rows.trigger = array("d", [NAN]) * count
    rows.route_time = array("d", [NAN]) * count
    rows.amount = _decimals(page.amount_coefficients, page.amount_exponents, page.amount_texts)
    rows.price = _decimals(page.price_coefficients, page.price_exponents, page.price_texts)
    rows.quoted = _decimals(page.quoted_coefficients, page.quoted_exponents, page.quoted_texts)
    rows.route_quote = DecimalColumn()
    rows.route_quote.coefficients = array("q", bytes(8 * count))
    rows.route_quote.exponents = array("b", [NO_EXPONENT]) * count
    for row, text in enumerate(page.routes):
        if text is not None:
            _read_route(rows, row, text)
    for row, order in page.running.items():
        rows[row] = order
        rows._write(row, order)  # every field of the whole order, not the key fields only
    return rows


def _read_route(rows: OrderRows, row: int, text: str) -> None:
    """A stored route's JSON into the route columns, as `_write_route` packs `Route.from_json` of it."""
    data = json.loads(text)
    quoted = data.get("quotedPrice")
    if data.get("legs") or data.get("hops") or not isinstance(quoted, str):
        rows.odd_routes[row] = Route.from_json(data)
        return
    rows.route_venue[row] = VENUE_CODE[Venue(data["venue"])]
    rows.route_quote.set(row, Decimal(quoted))
    moment = data.get("marketTime")
    if moment is not None:
        rows.route_time[row] = float(moment)
    if data["signature"] != rows.tx_hashes[row]:
        rows.odd_signatures[row] = data["signature"]
