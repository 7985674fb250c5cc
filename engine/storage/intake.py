"""New orders' own lane: a batch of new orders stored as tuples straight to the driver, on a connection of its own.

Submissions used to go through SQLAlchemy's insert on a pooled connection: per batch a pool
checkout (on PostgreSQL with a pre-ping round trip), a lookup of the ids, the insert of the rows,
the insert of their logs, a second lookup for the new sequences, and SQLAlchemy's statement
compilation and parameter processing for every row, all on the loop the engine's state changes
run on. A POST's answer waited for all of it, so 50 clients got ~350-850 POSTs/s (issue 26).

Here a batch is one transaction on the intake's kept connection (kept_connection.py), never
the group commit's, so new orders never queue behind the engine's state changes for a connection
or a batch (on SQLite they still take turns for the file's one write lock, as every writer does).
The statements are made once and the driver prepares and caches them:

- PostgreSQL, one statement, one round trip, no BEGIN or COMMIT (a statement is atomic by itself):
  `INSERT … SELECT FROM unnest(…) ON CONFLICT (id) DO NOTHING RETURNING`, with the new orders' log
  lines inserted by the same statement for exactly the rows it inserted.
  It takes no lock beside the rows' own: two processes inserting the same id (a repeated
  Idempotency-Key) meet on the unique index, where the second waits for the first and does nothing.
- SQLite: the change feed's counter bumped first (it takes the file's write lock, so the highest
  sequence read in the same statement stays the highest), then one `executemany` of the rows with
  their sequences given, one of the log lines.

Identical outcome to engine/storage/inserts.py's SQLAlchemy path, which still serves a database
with a paper account (the reservation and its shortfall check are SQLAlchemy statements there): an
id already stored comes back as stored, or as created by this caller when it is this very order from
an earlier try whose commit acknowledgement was lost (`inserts.earlier_try`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.account.model import Reservation
from engine.model.domain import Order, format_timestamp
from engine.model.jsonfmt import dumps, format_decimal
from engine.storage import change_feed
from engine.storage.account_store import STARTED_KEY
from engine.storage.change_feed import POSTGRES_MARK
from engine.storage.driver_errors import postgres_errors
from engine.storage.inserts import earlier_try, insert_orders, orders_by_id
from engine.storage.json_rows import recordset, rows_json
from engine.storage.order_codec import LOG_COLUMNS, STATE_COLUMNS, Encode, as_is, sqlite_insert, state_values

# The order's identity, set once at submission; then its state (order_codec.STATE_COLUMNS).
IDENTITY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "text"),
    ("pair", "text"),
    ("direction", "text"),
    ("amount", "numeric"),
    ("created_at", "timestamptz"),
    ("owner", "text"),
    ("user_label", "text"),
    ("request_key", "text"),
)
ROW_COLUMNS = (*IDENTITY_COLUMNS, *STATE_COLUMNS)

# What one batch stored: each order as stored with whether this call created it, and the change
# feed mark its transaction stamped (the store skips its own marks when it reads the feed).
Stored = tuple[list[tuple[Order, bool]], int]


def _names(columns: Sequence[tuple[str, str]]) -> str:
    return ", ".join(name for name, _type in columns)


def _postgres_insert() -> str:
    """One statement, so one round trip and atomic on its own with no BEGIN or COMMIT: the rows, their
    log lines, and nothing at all when a paper account exists (then a row of NULLs says so, and the
    caller takes SQLAlchemy's path, which reserves). Parameters: the account key (NULL: no
    reservations to make), the rows (`ROW_COLUMNS`) and their log lines (`LOG_COLUMNS`) as JSON
    (engine/storage/json_rows.py)."""
    return f"""
WITH account AS (
    SELECT EXISTS (SELECT 1 FROM account_meta WHERE key = $1::text) AS open
), new AS (
    INSERT INTO orders ({_names(ROW_COLUMNS)}, change_seq)
    SELECT v.*, {POSTGRES_MARK} FROM {recordset("$2", ROW_COLUMNS)} AS v
    WHERE NOT (SELECT open FROM account)
    ON CONFLICT (id) DO NOTHING
    RETURNING id, seq, change_seq
), logged AS (
    INSERT INTO order_logs ({_names(LOG_COLUMNS)})
    SELECT * FROM {recordset("$3", LOG_COLUMNS)} AS l
    WHERE l.order_id IN (SELECT id FROM new)
)
SELECT id, seq, change_seq FROM new
UNION ALL
SELECT NULL, NULL, NULL FROM account WHERE open
"""


_POSTGRES_INSERT = _postgres_insert()
_SQLITE_ACCOUNT_EXISTS = "SELECT EXISTS (SELECT 1 FROM account_meta WHERE key = ?)"
# The mark, and the highest sequence so far: SQLite gives a new row the highest plus one, and this
# transaction holds the write lock from this statement on, so no other writer comes in between.
_SQLITE_BUMP = (
    "UPDATE change_counter SET value = value + 1 WHERE id = 1 "
    "RETURNING value, (SELECT COALESCE(MAX(seq), 0) FROM orders)"
)
_SQLITE_ORDER = sqlite_insert("orders", (("seq", "int"), *ROW_COLUMNS, ("change_seq", "int"))) + (
    " ON CONFLICT (id) DO NOTHING"
)
_SQLITE_LOG = sqlite_insert("order_logs", LOG_COLUMNS)


def _row(order: Order, decimal: Encode, timestamp: Encode) -> tuple[Any, ...]:
    """The whole row at submission, in `ROW_COLUMNS` order, in the database's stored form."""
    return (
        order.id,
        order.pair,
        str(order.direction),
        decimal(order.amount),
        timestamp(order.created_at),
        order.owner,
        order.user_label,
        order.request_key,
        *state_values(order, decimal, timestamp),
    )


def _log_rows(new_orders: Sequence[Order], timestamp: Encode) -> list[tuple[Any, ...]]:
    """Every log line the new orders carry, in `LOG_COLUMNS` order."""
    return [
        (
            order.id,
            index,
            timestamp(entry.timestamp),
            str(entry.status),
            entry.message,
            dumps(entry.data) if entry.data is not None else None,
            str(entry.kind),
        )
        for order in new_orders
        for index, entry in enumerate(order.logs)
    ]


def _answer(
    new_orders: Sequence[Order], created: dict[str, int], existing: dict[str, Order], owner: str
) -> list[tuple[Order, bool]]:
    """Each order as stored, and whether this call (or an earlier try of it) created it."""
    results = []
    for order in new_orders:
        seq = created.get(order.id)
        if seq is not None:
            results.append((order.evolve(seq=seq), True))
            continue
        stored = existing[order.id]
        results.append((order.evolve(seq=stored.seq), True) if earlier_try(stored, order, owner) else (stored, False))
    return results


async def store_new_orders(
    connection: AsyncConnection, new_orders: Sequence[Order], reservations: Sequence[Reservation], owner: str
) -> Stored:
    """One batch of new orders in one transaction on `connection` (the intake's kept connection)."""
    driver: Any = (await connection.get_raw_connection()).driver_connection
    if connection.dialect.name == "postgresql":
        stored = await _postgres(connection, driver, new_orders, bool(reservations), owner)
        if stored is not None:
            return stored
        # A paper account: SQLAlchemy's path, which reserves (or refuses) in its transaction.
        mark = await change_feed.mark_one_off(connection)
        return await insert_orders(connection, new_orders, reservations, owner=owner, change_seq=mark), mark
    try:
        mark, highest = (await driver.execute_fetchall(_SQLITE_BUMP))[0]
        if reservations and (await driver.execute_fetchall(_SQLITE_ACCOUNT_EXISTS, (STARTED_KEY,)))[0][0]:
            # The same transaction, which holds the write lock since the bump.
            return await insert_orders(connection, new_orders, reservations, owner=owner, change_seq=mark), mark
        return await _sqlite(connection, driver, new_orders, int(mark), int(highest), owner), int(mark)
    except sqlite3.OperationalError as error:  # "database is locked" and its kin: retry the batch
        raise OperationalError(_SQLITE_BUMP, None, error) from error


async def _postgres(
    connection: AsyncConnection, driver: Any, new_orders: Sequence[Order], reserving: bool, owner: str
) -> Stored | None:
    """The batch as one statement on the driver; None, with nothing written, when a paper account must reserve.

    SQLAlchemy's asyncpg adapter opens a transaction only when it executes something itself, so the
    statement runs in its own implicit transaction and the caller's `begin()` has nothing to commit.
    """
    rows = [_row(order, as_is, as_is) for order in new_orders]
    logs = _log_rows(new_orders, as_is)
    account_key = STARTED_KEY if reserving else None
    # A lock timeout behind a stalled process inserting the same id is tried again, not a 500.
    with postgres_errors(_POSTGRES_INSERT):
        returned = await driver.fetch(
            _POSTGRES_INSERT, account_key, rows_json(rows, ROW_COLUMNS), rows_json(logs, LOG_COLUMNS)
        )
    if returned and returned[-1][0] is None:
        return None
    created = {row[0]: int(row[1]) for row in returned}
    mark = int(returned[0][2]) if returned else 0
    existing: dict[str, Order] = {}
    if len(created) != len(new_orders):
        # Ids stored before (a repeated key, or an earlier try of this batch whose acknowledgement
        # was lost), read once the statement is over: a rare path, so SQLAlchemy's.
        existing = await orders_by_id(connection, [order.id for order in new_orders if order.id not in created])
    return _answer(new_orders, created, existing, owner), mark


async def _sqlite(
    connection: AsyncConnection, driver: Any, new_orders: Sequence[Order], mark: int, highest: int, owner: str
) -> list[tuple[Order, bool]]:
    """The batch under the caller's transaction (sqlite3 opened it with the bump; the caller commits it)."""
    seqs = {order.id: highest + 1 + index for index, order in enumerate(new_orders)}
    rows = [(seqs[order.id], *_row(order, format_decimal, format_timestamp), mark) for order in new_orders]
    inserted = (await driver.executemany(_SQLITE_ORDER, rows)).rowcount
    existing: dict[str, Order] = {}
    fresh: Sequence[Order] = new_orders
    if inserted != len(rows):
        # Some ids were stored before: those whose stored sequence is not the one given here.
        stored = await orders_by_id(connection, list(seqs))
        existing = {order_id: order for order_id, order in stored.items() if order.seq != seqs[order_id]}
        fresh = [order for order in new_orders if order.id not in existing]
    logs = _log_rows(fresh, format_timestamp)
    if logs:
        await driver.executemany(_SQLITE_LOG, logs)
    return _answer(new_orders, {order.id: seqs[order.id] for order in fresh}, existing, owner)
