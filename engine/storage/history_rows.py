"""Pages of stored orders for the desk's history, read straight from the SQLite file in a worker thread.

The desk loads every stored order onto its board. Through the store that is SQLAlchemy's result
rows, its column types' conversions and `order_from_row` (enum calls, a mapping per row): the
profile of a 100,000-order load put 88 % of it there. Here a plain read-only `sqlite3` cursor
hands over each row as a tuple of the stored text, and the snapshot is built from it in one pass
(enums by dictionary, timestamps by `fromisoformat`), all in the calling thread, which is never the
loop's. The snapshots are the store's own: without logs, market terms (see `order_from_row`), but
a waiting limit order with its terms (see limit_terms).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from engine.model.domain import MARKET_TERMS, Direction, Order, OrderStatus, OrderTerms, Route, Venue
from engine.storage.changes import StorageUnavailable
from engine.storage.errors import permanent_problem
from engine.storage.limit_terms import with_limit_terms_sqlite

HISTORY_COLUMNS = (
    "id",
    "seq",
    "pair",
    "direction",
    "amount",
    "status",
    "created_at",
    "updated_at",
    "dex",
    "execution_price",
    "tx_hash",
    "attempts",
    "error",
    "route",
    "version",
    "owner",
    "retry_at",
    "user_label",
    "quoted_price",
)
_BUSY_TIMEOUT_S = 5.0
T = TypeVar("T")
_DIRECTIONS = {direction.value: direction for direction in Direction}
_STATUSES = {status.value: status for status in OrderStatus}
_VENUES = {venue.value: venue for venue in Venue}


def _timestamp(text: str | None) -> datetime | None:
    """The contract's ISO text ('…Z'), as `parse_timestamp` reads it."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def order_from_stored_text(row: Sequence[Any]) -> Order:
    """A snapshot from one row of `HISTORY_COLUMNS` as SQLite stores it (decimals and times as text)."""
    (order_id, seq, pair, direction, amount, status, created, updated, dex, price, tx_hash, attempts, error,
     route, version, owner, retry_at, user_label, sent) = row  # fmt: skip
    return Order(
        id=order_id,
        seq=seq,
        pair=pair,
        direction=_DIRECTIONS[direction],
        amount=Decimal(amount),
        status=_STATUSES[status],
        created_at=_timestamp(created),  # type: ignore[arg-type]  # never NULL in the schema
        updated_at=_timestamp(updated),  # type: ignore[arg-type]
        dex=_VENUES[dex] if dex else None,
        execution_price=Decimal(price) if price is not None else None,
        tx_hash=tx_hash,
        attempts=attempts,
        error=error,
        route=Route.from_json(json.loads(route)) if route else None,
        version=version or 0,
        owner=owner,
        retry_at=_timestamp(retry_at),
        # The price a CONFIRMED order was sent at (its stored figure), as `order_from_row` reads it.
        terms=MARKET_TERMS if sent is None else OrderTerms(quoted_price=Decimal(sent)),
        user_label=user_label,
    )


def read_history_page(path: Path, *, limit: int, before_seq: int | None = None) -> list[Order]:
    """Up to `limit` orders newest first, older than `before_seq` when given. Blocking: call it in a thread."""

    def orders(connection: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> list[Order]:
        # A waiting limit order is listed with its limit.
        return with_limit_terms_sqlite(connection, [order_from_stored_text(row) for row in rows])

    return read_page(path, HISTORY_COLUMNS, orders, limit=limit, before_seq=before_seq)


def read_page(
    path: Path,
    selected: Sequence[str],
    shape: Callable[[sqlite3.Connection, list[tuple[Any, ...]]], T],
    *,
    limit: int,
    before_seq: int | None,
) -> T:
    """One page of the orders table, newest first, read on a read-only connection of its own.

    The desk reads its history in a worker thread while the engine writes on the loop's
    connection; a problem is a `StorageUnavailable` that names the file. `shape` turns the page's
    rows into what the caller keeps (orders, or columns) while the connection is still open.
    """
    where = " WHERE seq < ?" if before_seq is not None else ""
    sql = f"SELECT {', '.join(selected)} FROM orders{where} ORDER BY seq DESC LIMIT ?"
    parameters = (before_seq, limit) if before_seq is not None else (limit,)
    try:
        connection = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, timeout=_BUSY_TIMEOUT_S)
    except sqlite3.Error as error:
        raise StorageUnavailable(f"cannot read database {path}: {error}") from error
    try:
        return shape(connection, connection.execute(sql, parameters).fetchall())
    except sqlite3.Error as error:
        problem = permanent_problem(error, f"sqlite:///{path}")
        raise StorageUnavailable(problem or f"cannot read database {path}: {error}") from error
    finally:
        connection.close()
