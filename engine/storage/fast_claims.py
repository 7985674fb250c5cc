"""A worker's batched claim on PostgreSQL in one statement, one round trip, on the driver's own connection.

`ownership.claim_many` through SQLAlchemy cost a worker four round trips per batch (BEGIN, the
claiming UPDATE, the log read, COMMIT) and SQLAlchemy's execute path twice; with about 1.6 orders
per batch at 10 in flight, claims were a fifth of a worker's CPU in `bench cluster` (py-spy). Here
the claim, the lease renewal, the read of the orders not claimed and their logs are one statement
of data-modifying CTEs, so it needs no transaction of its own: one statement is atomic. It takes the
same rows, in the same lock order (orders, then this owner's row in `owners`), under the same
conditions as `ownership.claim_many`, which SQLite still uses.

The orders not claimed are read from the statement's snapshot: one another process ended meanwhile
may still read unfinished, and its turn simply looks again after a pause, as for one held by a
live owner; an order read as ended has ended (an end is final).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from engine.model.domain import ACTIVE_STATES, LogEntry, Order
from engine.model.jsonfmt import format_decimal
from engine.storage.driver_errors import postgres_errors
from engine.storage.rows import log_from_row, order_from_row

_ACTIVE = sorted(str(status) for status in ACTIVE_STATES)
_DECIMALS = ("amount", "execution_price", "quoted_price", "slippage_bps", "notional", "fee")
_TIMESTAMPS = ("created_at", "updated_at", "retry_at")
_COLUMNS = (
    "seq, id, pair, direction, amount, status, dex, execution_price, tx_hash, attempts, error, created_at, "
    "updated_at, route, log_count, version, owner, retry_at, quoted_price, slippage_bps, notional, fee, "
    "user_label, request_key"
)

# $1 ids, $2 claimer, $3 unfinished states, $4 now, $5 lease until, $6 renew the lease.
# `(o.status || '')` keeps the status index out of the plan: the rows are found by id, and ANDing in
# the index of every unfinished order read thousands of index entries per claim while a backlog waits.
CLAIM_SQL = f"""
WITH claimed AS (
    UPDATE orders AS o SET owner = $2, version = o.version + 1
    WHERE o.id = ANY($1::text[]) AND (o.status || '') = ANY($3::text[])
      AND (o.owner IS NULL OR o.owner = $2
           OR NOT EXISTS (SELECT 1 FROM owners AS w WHERE w.id = o.owner AND w.lease_until >= $4))
    RETURNING {_COLUMNS}
), beat AS (
    INSERT INTO owners (id, lease_until)
    SELECT $2, $5 WHERE $6::boolean AND EXISTS (SELECT 1 FROM claimed)
    ON CONFLICT (id) DO UPDATE SET lease_until = excluded.lease_until
    RETURNING 1
), found AS (
    SELECT true AS claimed, {_COLUMNS} FROM claimed
    UNION ALL
    SELECT false, {_COLUMNS} FROM orders AS o
    WHERE o.id = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM claimed AS c WHERE c.id = o.id)
)
SELECT f.*, l.ts AS log_ts, l.st AS log_status, l.msg AS log_message, l.dat AS log_data, l.kd AS log_kind,
       (SELECT count(*) FROM beat) AS renewed
FROM found AS f
LEFT JOIN LATERAL (
    SELECT array_agg(g.timestamp ORDER BY g.idx) AS ts, array_agg(g.status ORDER BY g.idx) AS st,
           array_agg(g.message ORDER BY g.idx) AS msg, array_agg(g.data ORDER BY g.idx) AS dat,
           array_agg(g.kind ORDER BY g.idx) AS kd
    FROM order_logs AS g WHERE g.order_id = f.id AND g.idx < f.log_count
) AS l ON true
"""


# $1 order id, $2 owner, $3 unfinished states.
RELEASE_SQL = "UPDATE orders SET owner = NULL WHERE id = $1 AND owner = $2 AND status = ANY($3::text[])"


def _decimal(value: Decimal | None) -> Decimal | None:
    """As `schema.ExactDecimal` reads NUMERIC: the same digits SQLAlchemy's reads give."""
    return None if value is None else Decimal(format_decimal(value))


def _timestamp(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _logs(row: Mapping[str, Any]) -> tuple[LogEntry, ...]:
    stamps = row["log_ts"]
    if not stamps:
        return ()
    return tuple(
        log_from_row({"timestamp": _timestamp(at), "status": status, "message": message, "data": data, "kind": kind})
        for at, status, message, data, kind in zip(
            stamps, row["log_status"], row["log_message"], row["log_data"], row["log_kind"], strict=True
        )
    )


def order_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The driver's row as SQLAlchemy's typed read of `orders` gives it (what `order_from_row` expects)."""
    values = dict(row)
    for name in _DECIMALS:
        values[name] = _decimal(values[name])
    for name in _TIMESTAMPS:
        values[name] = _timestamp(values[name])
    return values


async def claim_on_driver(
    driver: Any, order_ids: Sequence[str], claimer: str, *, now: datetime, until: datetime, renew: bool
) -> dict[str, tuple[Order, bool]]:
    """Claim the orders, one statement on an asyncpg connection; order id → (`Order` as stored, claimed).

    Driver errors are raised as SQLAlchemy's, so the store's retry loop judges them as it judges
    every other statement's (a lost connection or a deadlock is tried again on a fresh one).
    """
    with postgres_errors(CLAIM_SQL):
        rows = await driver.fetch(CLAIM_SQL, sorted(set(order_ids)), claimer, _ACTIVE, now, until, renew)
    return {row["id"]: (order_from_row(order_row(row), _logs(row)), bool(row["claimed"])) for row in rows}


async def release_on_driver(driver: Any, order_id: str, owner: str) -> bool:
    """Give up one unfinished order this owner holds, one statement (a worker does it before each delayed turn)."""
    with postgres_errors(RELEASE_SQL):
        status: str = await driver.execute(RELEASE_SQL, order_id, owner, _ACTIVE)
    return status != "UPDATE 0"
