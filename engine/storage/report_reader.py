"""The CSV report's rows read straight from a SQLite file, for a worker thread.

SQLite keeps decimals and timestamps as the contract's text, and the added columns are stored
figures, so a plain `sqlite3` cursor yields the report's cells as they are (every one as text, an
empty string for NULL, which is what the CSV writes): the worker thread that writes the file reads them too, and the
loop that runs orders and the desk does no per-row work at all. It is its own read-only
connection on one read transaction, so the report is one consistent snapshot even while orders
keep changing (WAL lets the writer go on meanwhile).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy.engine import make_url

from engine.model.domain import OrderStatus
from engine.storage.changes import StorageUnavailable
from engine.storage.errors import permanent_problem

REPORT_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "pair",
    "direction",
    "amount",
    "status",
    "dex",
    "execution_price",
    "tx_hash",
    "attempts",
    "error",
    # The added columns, stored when the order was CONFIRMED (engine/storage/figure_columns.py).
    "quoted_price",
    "slippage_bps",
    "notional",
    "fee",
    # The client's label (the API's `userId`), after the figures (revision 0007); the report adds the outcome.
    "user_label",
)
_BUSY_TIMEOUT_S = 5.0


def sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL, or None when it is not a plain file (other databases, URIs)."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def report_pages(
    path: Path, *, status: OrderStatus | None = None, pair: str | None = None, chunk: int = 5000
) -> Iterator[list[tuple[Any, ...]]]:
    """The report's cells as text, oldest first, `chunk` rows at a time. Blocking: call it in a thread."""
    conditions, parameters = [], []
    if status is not None:
        conditions.append("status = ?")
        parameters.append(str(status))
    if pair is not None:
        conditions.append("pair = ?")
        parameters.append(pair)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    cells = ", ".join(f"IFNULL(CAST({name} AS TEXT), '')" for name in REPORT_COLUMNS)
    sql = f"SELECT {cells} FROM orders{where} ORDER BY seq"
    try:
        connection = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, timeout=_BUSY_TIMEOUT_S)
    except sqlite3.Error as error:
        raise StorageUnavailable(f"cannot read database {path}: {error}") from error
    try:
        cursor = connection.execute(sql, parameters)
        while page := cursor.fetchmany(chunk):
            yield page
    except sqlite3.Error as error:
        problem = permanent_problem(error, f"sqlite:///{path}")
        raise StorageUnavailable(problem or f"cannot read database {path}: {error}") from error
    finally:
        connection.close()
