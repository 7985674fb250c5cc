"""A job's copy of its order as stored at submission, so the worker that takes the job first reads nothing.

A worker used to open every job with a claim: one PostgreSQL statement that took the order and read
it back with its log (0.84 statements an order in `bench cluster`, each a round trip and a row
decode). A producer has just stored the order it queues, so the job carries it, in its stored
form: the row's values and the log lines as text, decoded the way a read of the row decodes them
(engine/storage/rows.py), so the order a worker runs is the one a claim would have read.

The copy is a proposal, not the truth: the first state the worker writes claims the order in
the same statement, and only if the stored row still has the copy's version and no live owner
(engine/storage/order_codec.py `postgres_write`). A copy gone stale (the order was cancelled,
another worker holds it) is refused there, before anything leaves the process, and the turn
claims the order the usual way. Only an order that will simply start carries a copy: PENDING,
never attempted, unowned, not a limit order waiting for its price. A job with `orderId` alone (a
re-queue, another BullMQ client) is claimed as before.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.model.domain import Order, OrderStatus
from engine.model.jsonfmt import format_decimal
from engine.storage.order_codec import STATE_NAMES
from engine.storage.rows import log_from_row, log_rows, order_from_row, order_row

STORED_KEY = "stored"
_DECIMALS = ("amount", "execution_price", "quoted_price", "slippage_bps", "notional", "fee")
_TIMESTAMPS = ("created_at", "updated_at", "retry_at")
_LOG_FIELDS = ("timestamp", "status", "message", "data", "kind")
# Every column a row read gives, empty: the copy leaves out what is empty.
_EMPTY_ROW: dict[str, Any] = dict.fromkeys(
    ("id", "pair", "direction", "amount", "created_at", "owner", "user_label", "request_key", "seq", *STATE_NAMES)
)


def starts_plain(order: Order) -> bool:
    """An order whose next turn simply starts its first attempt: the only kind a job carries a copy of."""
    return (
        order.status is OrderStatus.PENDING
        and order.attempts == 0
        and order.owner is None
        and order.retry_at is None
        and not order.is_waiting_limit
    )


def order_id_of(job: Any) -> str:
    """The order a job runs: its data's `orderId` (any BullMQ client may queue one), else the job's id."""
    data = job.data
    order_id = data.get("orderId") if isinstance(data, dict) else None
    return str(order_id if order_id is not None else job.id)


def job_data(order_id: str, stored: Order | None = None) -> dict[str, Any]:
    """The job's data: `orderId`, and the order as stored when it will simply start."""
    data: dict[str, Any] = {"orderId": order_id}
    if stored is not None and starts_plain(stored):
        data[STORED_KEY] = encode(stored)
    return data


def encode(order: Order) -> dict[str, Any]:
    """The order's row and log lines as JSON values: decimals and timestamps as text.

    A new order's row is mostly empty columns, and a backlog's jobs all wait in Redis: the empty
    ones are left out (about 0.6 KB a job instead of 0.9).
    """
    row = order_row(order)
    row["seq"], row["version"] = order.seq, order.version
    for name in _DECIMALS:
        if row[name] is not None:
            row[name] = str(row[name])
    for name in _TIMESTAMPS:
        if row[name] is not None:
            row[name] = row[name].isoformat()
    row = {name: value for name, value in row.items() if value is not None}
    logs = [
        [line["timestamp"].isoformat(), line["status"], line["message"], line["data"], line["kind"]]
        for line in log_rows(order.id, 0, order.logs)
    ]
    return {"row": row, "logs": logs}


def carried(data: Any, order_id: str) -> Order | None:
    """The order a job carries, as a read of its row would give it; None when it carries none (or not this one).

    Decimals are normalised as `schema.ExactDecimal` reads NUMERIC, so the worker computes with the
    same digits whether the order came in the job or from the database.
    """
    stored = data.get(STORED_KEY) if isinstance(data, dict) else None
    if not isinstance(stored, dict):
        return None
    try:
        row: dict[str, Any] = {**_EMPTY_ROW, **stored["row"]}
        for name in _DECIMALS:
            if row[name] is not None:
                row[name] = Decimal(format_decimal(Decimal(row[name])))
        for name in _TIMESTAMPS:
            if row[name] is not None:
                row[name] = datetime.fromisoformat(row[name])
        logs = []
        for line in stored["logs"]:
            values = dict(zip(_LOG_FIELDS, line, strict=True))
            values["timestamp"] = datetime.fromisoformat(values["timestamp"])
            logs.append(log_from_row(values))
        order = order_from_row(row, tuple(logs))
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return None  # not a copy this version wrote: the turn claims the order and reads it
    # A copy of another order would be run on this one's row: never, even from a foreign producer.
    return order if order.id == order_id and starts_plain(order) else None
