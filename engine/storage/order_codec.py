"""The stored order row, declared once: which columns a state change rewrites, their PostgreSQL
types, and how each is read off an `Order`.

Three writers store the same row: SQLAlchemy's insert at submission (`rows.order_row`, a dict),
the SQLite group commit (a tuple per order for `executemany`) and the PostgreSQL group commit (the
rows as one JSON parameter, engine/storage/json_rows.py). Each used to spell the columns out by
hand, the last with its parameters numbered `$1` … `$31`; now the statements and the rows are
made from `STATE_COLUMNS`, so a column added here reaches all three or none.
`tests/ownership/test_order_codec.py` writes orders through both group commits and compares every
stored value with what the insert stores.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from engine.model.domain import Order, format_timestamp
from engine.model.jsonfmt import dumps, format_decimal
from engine.storage.figure_columns import FIGURE_COLUMNS, figure_values
from engine.storage.json_rows import recordset

Encode = Callable[[Any], Any]

# (column, PostgreSQL type of its unnest array), in the order `state_values` gives them.
STATE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("status", "text"),
    ("dex", "text"),
    ("execution_price", "numeric"),
    ("tx_hash", "text"),
    ("attempts", "int"),
    ("error", "text"),
    ("updated_at", "timestamptz"),
    ("route", "text"),
    ("log_count", "int"),
    ("version", "int"),
    ("retry_at", "timestamptz"),
    *zip(FIGURE_COLUMNS, ("numeric", "numeric", "numeric", "numeric", "bigint"), strict=True),
)
STATE_NAMES = tuple(name for name, _type in STATE_COLUMNS)
LOG_COLUMNS: tuple[tuple[str, str], ...] = (
    ("order_id", "text"),
    ("idx", "int"),
    ("timestamp", "timestamptz"),
    ("status", "text"),
    ("message", "text"),
    ("data", "text"),
    ("kind", "text"),
)
LEDGER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("signature", "text"),
    ("order_id", "text"),
    ("venue", "text"),
    ("price", "numeric"),
    ("executed_at", "timestamptz"),
)
# What a conditional update matches on, after the state: the order's id, the version it expects and,
# for the first write of an order not held yet (PostgreSQL only), the moment it claims it at.
UPDATE_KEY: tuple[tuple[str, str], ...] = (("id", "text"), ("expected", "int"), ("claim_at", "timestamptz"))


def state_values(order: Order, decimal: Encode, timestamp: Encode) -> tuple[Any, ...]:
    """The order's values for `STATE_COLUMNS`; `decimal` and `timestamp` give each database's stored form."""
    price, route, retry_at = order.execution_price, order.route, order.retry_at
    return (
        str(order.status),
        str(order.dex) if order.dex else None,
        decimal(price) if price is not None else None,
        order.tx_hash,
        order.attempts,
        order.error,
        timestamp(order.updated_at),
        dumps(route.to_json()) if route else None,
        len(order.logs),
        order.version,
        timestamp(retry_at) if retry_at is not None else None,
        *figure_values(order, decimal),
    )


_DECIMALS = frozenset(index for index, (_name, kind) in enumerate(STATE_COLUMNS) if kind == "numeric")
_TIMESTAMPS = frozenset(index for index, (_name, kind) in enumerate(STATE_COLUMNS) if kind == "timestamptz")
_UPDATED_AT = STATE_NAMES.index("updated_at")


def _sqlite_form(index: int) -> Encode | None:
    """What SQLite stores for a state column, given its value as PostgreSQL takes it (None: as it is)."""
    if index == _UPDATED_AT:
        return None  # comes already formatted (`sqlite_state`): not formatted a second time
    if index in _DECIMALS:
        return format_decimal
    return format_timestamp if index in _TIMESTAMPS else None


_SQLITE_FORMS: tuple[Encode | None, ...] = tuple(_sqlite_form(index) for index in range(len(STATE_COLUMNS)))


def sqlite_state(state: tuple[Any, ...], updated_text: str) -> list[Any]:
    """`state_values(order, as_is, as_is)` in SQLite's stored form: decimals and timestamps as text.

    `updated_text` is the change's time already formatted (the update message carries the same text).
    """
    values = [
        value if form is None or value is None else form(value)
        for value, form in zip(state, _SQLITE_FORMS, strict=True)
    ]
    values[_UPDATED_AT] = updated_text
    return values


def as_is(value: Decimal | Any) -> Any:
    """SQLAlchemy's column types and asyncpg take Decimal and datetime as they are."""
    return value


def sqlite_update() -> str:
    """The SQLite group commit's conditional update: the state, the change mark, then the key and owner."""
    assignments = ", ".join(f"{name} = ?" for name in (*STATE_NAMES, "change_seq"))
    return f"UPDATE orders SET {assignments} WHERE id = ? AND version = ? AND owner = ?"


def sqlite_insert(table: str, columns: Sequence[tuple[str, str]]) -> str:
    names = ", ".join(name for name, _type in columns)
    return f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in columns)})"


def postgres_write(change_mark: str, *, guarded: bool = False) -> str:
    """The PostgreSQL group commit in one statement, one round trip.

    The conditional updates, then the log lines and ledger entries of exactly the orders they
    matched (a data-modifying CTE's RETURNING is what the others read). Parameters, in order: the
    update rows (`STATE_COLUMNS` then `UPDATE_KEY`) as JSON (engine/storage/json_rows.py), their
    ids, the owner, the log rows (`LOG_COLUMNS`) and the ledger rows (`LEDGER_COLUMNS`) as JSON.
    Rows: (id, change mark, held).

    `guarded` (one more parameter: the ids of the orders that end in the batch) leaves alone every
    ending order that holds a paper-account reservation and returns it with held = true: the
    statement then needs no transaction around it, since an end that must settle the account is
    never written without its settlement (fast_write writes those in a transaction of their own).

    `o.id = ANY(ids)` says again what the join with `v` says, so that the planner looks the rows up
    by id whatever it believes of the table: on a table whose statistics were not yet gathered (a
    new database, a bench's schema) it scanned all of `orders` for every batch.

    A row whose `claim_at` is set claims its order as it writes it (a cluster job's copy of the
    order, engine/cluster/job_snapshot.py): it matches an order with no owner, or one whose owner's
    lease ran out before `claim_at`, as `fast_claims.CLAIM_SQL` does, and the version check
    refuses a copy gone stale. `owner = $3` is set on every row; it changes only the claimed ones.
    """

    def names(columns: Sequence[tuple[str, str]]) -> str:
        return ", ".join(name for name, _type in columns)

    assignments = ", ".join(f"{name} = v.{name}" for name in STATE_NAMES)
    held, unheld, held_rows = "", "", ""
    if guarded:
        held = """held AS (
    SELECT r.order_id AS id FROM account_reservations AS r WHERE r.order_id = ANY($6::text[])
), """
        unheld = " AND o.id NOT IN (SELECT id FROM held)"
        held_rows = "\nUNION ALL SELECT id, NULL, true FROM held"
    return f"""
WITH {held}updated AS (
    UPDATE orders AS o SET {assignments}, owner = $3, change_seq = {change_mark}
    FROM {recordset("$1", (*STATE_COLUMNS, *UPDATE_KEY))} AS v
    WHERE o.id = ANY($2::text[]) AND o.id = v.id AND o.version = v.expected{unheld}
      AND (o.owner = $3 OR (v.claim_at IS NOT NULL AND (o.owner IS NULL OR NOT EXISTS (
          SELECT 1 FROM owners AS w WHERE w.id = o.owner AND w.lease_until >= v.claim_at))))
    RETURNING o.id, o.change_seq
), logged AS (
    INSERT INTO order_logs ({names(LOG_COLUMNS)})
    SELECT * FROM {recordset("$4", LOG_COLUMNS)} AS l
    WHERE l.order_id IN (SELECT id FROM updated)
), executed AS (
    INSERT INTO ledger ({names(LEDGER_COLUMNS)})
    SELECT * FROM {recordset("$5", LEDGER_COLUMNS)} AS g
    WHERE g.order_id IN (SELECT id FROM updated)
)
SELECT id, change_seq, false AS held FROM updated{held_rows}
"""
