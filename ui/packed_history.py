"""A page of history read as columns (engine/storage/history_columns.py) packed into `OrderRows` as it is.

Split from ui/order_rows.py: that module packs `Order`s; this one packs what SQLite already parsed,
so an older page never becomes one `Order` per row. It writes exactly what `OrderRows` would write
for the `Order` that `order_from_stored_text` makes of the same row (market terms with the stored
quote, no trigger, no request key): tests/ui/test_history_columns.py holds the two to each other.
"""

from __future__ import annotations

import json
from array import array

import numpy as np

from engine.model.domain import Route
from engine.storage.history_columns import HistoryColumns
from ui.decimal_texts import decimal_column
from ui.order_rows import (
    DIRECTION_CODE,
    NO_TIME,
    NO_VENUE,
    STATUS_CODE,
    VENUE_CODE,
    OrderRows,
    intern_text,
)

NAN = float("nan")
_STATUS_OF_TEXT = {str(status): code for status, code in STATUS_CODE.items()}
_DIRECTION_OF_TEXT = {str(direction): code for direction, code in DIRECTION_CODE.items()}
_VENUE_OF_TEXT: dict[str | None, int] = {None: NO_VENUE, **{str(venue): code for venue, code in VENUE_CODE.items()}}


def _micros_of_ms(milliseconds: tuple[int, ...]) -> array[int]:
    micros = array("q", milliseconds)
    if micros:
        values = np.frombuffer(micros, dtype=np.int64)
        values *= 1000
        del values
    return micros


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
    rows.attempts = array("h", page.attempts)
    rows.version = array("q", page.versions)
    rows.trigger = array("d", [NAN]) * count
    rows.amount = decimal_column(page.amounts)
    rows.price = decimal_column(page.prices)
    rows.quoted = decimal_column(page.quoted)
    _read_routes(rows, page.routes)
    for row, order in page.running.items():
        rows[row] = order
        rows._write(row, order)  # every field of the whole order, not the key fields only
    return rows


def _read_routes(rows: OrderRows, texts: tuple[str | None, ...]) -> None:
    """Every stored route's JSON into the route columns, as `_write_route` packs `Route.from_json` of each.

    The page's routes are parsed by one `json.loads` of them joined into an array, and their quotes
    split as one column: one `json.loads` and one `Decimal` per row were three quarters of packing a
    page (100,000 routes: 0.4 s of the history load's worker thread).
    """
    count = len(texts)
    venues, times = [NO_VENUE] * count, [NAN] * count
    quotes: list[str | None] = [None] * count
    present = [(row, text) for row, text in enumerate(texts) if text is not None]
    parsed = json.loads(f"[{','.join(text for _row, text in present)}]")
    for (row, _text), data in zip(present, parsed, strict=True):
        quoted = data.get("quotedPrice")
        if data.get("legs") or data.get("hops") or not isinstance(quoted, str):
            rows.odd_routes[row] = Route.from_json(data)
            continue
        venues[row] = _VENUE_OF_TEXT[data["venue"]]
        quotes[row] = quoted
        moment = data.get("marketTime")
        if moment is not None:
            times[row] = float(moment)
        if data["signature"] != rows.tx_hashes[row]:
            rows.odd_signatures[row] = data["signature"]
    rows.route_venue = array("b", venues)
    rows.route_time = array("d", times)
    rows.route_quote = decimal_column(quotes)
