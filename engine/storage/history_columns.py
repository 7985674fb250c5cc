"""Pages of stored orders for the desk's history as columns, parsed by SQLite itself, in a worker thread.

`history_rows` builds an `Order` per stored row (Decimals, datetimes, a route from its JSON): ~18 µs
a row, 1.8 s of CPU for 100,000, before the desk packed them back into columns (issue 26 item 4).
Here SQLite parses the timestamps in C as it reads (to epoch milliseconds with `julianday`) and
the page comes back transposed: one tuple per column. Decimals come back as their stored text
(the desk splits a whole column at once, ui/decimal_texts.py: splitting them in SQL expressions
was a third of the read), the route as its JSON, and the few orders that have not ended (a waiting
limit order needs its terms from its log) as whole `Order`s.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.model.domain import TERMINAL_STATES, Order
from engine.storage.history_rows import HISTORY_COLUMNS, order_from_stored_text, read_page
from engine.storage.limit_terms import with_limit_terms_sqlite

_JULIAN_EPOCH_MS = 210_866_760_000_000  # the Unix epoch on SQLite's julian day clock, in ms
_TERMINAL = tuple(str(status) for status in TERMINAL_STATES)


def _epoch_ms(column: str) -> str:
    return f"CAST(ROUND(julianday({column}) * 86400000.0) AS INTEGER) - {_JULIAN_EPOCH_MS}"


# Each selected column: (name on `HistoryColumns`, SQL).
_SELECTED = (
    ("ids", "id"),
    ("seq", "seq"),
    ("pairs", "pair"),
    ("directions", "direction"),
    ("statuses", "status"),
    ("amounts", "amount"),
    ("created_ms", _epoch_ms("created_at")),
    ("updated_ms", _epoch_ms("updated_at")),
    ("retry_ms", f"CASE WHEN retry_at IS NULL THEN NULL ELSE {_epoch_ms('retry_at')} END"),
    ("venues", "dex"),
    ("prices", "execution_price"),
    ("tx_hashes", "tx_hash"),
    ("attempts", "attempts"),
    ("errors", "error"),
    ("versions", "coalesce(version, 0)"),
    ("owners", "owner"),
    ("labels", "user_label"),
    ("quoted", "quoted_price"),
    ("routes", "route"),  # JSON, parsed by the caller (json_extract per field cost 3x the rest of the read)
)
_NAMES = tuple(name for name, _sql in _SELECTED)


@dataclass(frozen=True, slots=True)
class HistoryColumns:
    """One page, newest first, one tuple per column (see `_SELECTED` for what each holds).

    Times are epoch milliseconds (None: none); a decimal is its stored text (None: none); a route
    is its stored JSON. `running` holds, by row, every order that has not ended, as a whole
    `Order` (with a waiting limit order's terms).
    """

    ids: tuple[str, ...]
    seq: tuple[int, ...]
    pairs: tuple[str, ...]
    directions: tuple[str, ...]
    statuses: tuple[str, ...]
    amounts: tuple[str, ...]
    created_ms: tuple[int, ...]
    updated_ms: tuple[int, ...]
    retry_ms: tuple[int | None, ...]
    venues: tuple[str | None, ...]
    prices: tuple[str | None, ...]
    tx_hashes: tuple[str | None, ...]
    attempts: tuple[int, ...]
    errors: tuple[str | None, ...]
    versions: tuple[int, ...]
    owners: tuple[str | None, ...]
    labels: tuple[str | None, ...]
    quoted: tuple[str | None, ...]
    routes: tuple[str | None, ...]
    running: dict[int, Order]

    def __len__(self) -> int:
        return len(self.ids)


def _columns(rows: list[tuple[Any, ...]], running: dict[int, Order]) -> HistoryColumns:
    transposed = list(zip(*rows, strict=True)) if rows else [() for _name in _NAMES]
    return HistoryColumns(**dict(zip(_NAMES, transposed, strict=True)), running=running)


def read_history_columns(path: Path, *, limit: int, before_seq: int | None = None) -> HistoryColumns:
    """Up to `limit` orders newest first, older than `before_seq` when given. Blocking: call it in a thread."""

    def columns(connection: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> HistoryColumns:
        status_at = _NAMES.index("statuses")
        unfinished = {row[1]: index for index, row in enumerate(rows) if row[status_at] not in _TERMINAL}
        running: dict[int, Order] = {}
        if unfinished:
            marks = ", ".join("?" * len(unfinished))
            whole = f"SELECT {', '.join(HISTORY_COLUMNS)} FROM orders WHERE seq IN ({marks})"
            orders = [order_from_stored_text(row) for row in connection.execute(whole, list(unfinished))]
            running = {unfinished[order.seq]: order for order in with_limit_terms_sqlite(connection, orders)}
        return _columns(rows, running)

    return read_page(path, [sql for _name, sql in _SELECTED], columns, limit=limit, before_seq=before_seq)
