"""The store's order queries, each one unit of work on a connection (`OrderStore` runs them with retries)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.model.domain import Order, OrderStatus
from engine.storage.limit_terms import with_limit_terms
from engine.storage.rows import log_from_row, order_from_row
from engine.storage.schema import ledger, order_logs, orders

_LARGE_PAGE = 2000  # rows; below this a thread hop costs more than it saves


def filtered(query: Any, status: OrderStatus | None, pair: str | None, user_label: str | None = None) -> Any:
    if user_label is not None:
        query = query.where(orders.c.user_label == user_label)
    if status is not None:
        query = query.where(orders.c.status == str(status))
    if pair is not None:
        query = query.where(orders.c.pair == pair)
    return query


async def get(connection: AsyncConnection, order_id: str) -> Order | None:
    """One order with its whole log."""
    row = (await connection.execute(select(orders).where(orders.c.id == order_id))).mappings().first()
    if row is None:
        return None
    # The row and its log are two reads, and on SQLite a read starts no transaction: a commit
    # can land between them. Every change writes the row's `log_count` with the lines it
    # appends, so the lines below it are exactly the log of the state this row holds.
    log_result = await connection.execute(
        select(order_logs)
        .where(order_logs.c.order_id == order_id, order_logs.c.idx < row["log_count"])
        .order_by(order_logs.c.idx)
    )
    return order_from_row(row, tuple(log_from_row(item) for item in log_result.mappings()))


async def find_by_prefix(connection: AsyncConnection, prefix: str) -> list[str]:
    """Order ids starting with `prefix`, so people can type the short id the board shows."""
    # Literal: '%' and '_' in what was typed are characters, not LIKE wildcards.
    query = select(orders.c.id).where(orders.c.id.startswith(prefix.lower(), autoescape=True)).limit(2)
    return list((await connection.execute(query)).scalars())


def page_query(
    status: OrderStatus | None,
    pair: str | None,
    limit: int | None,
    newest_first: bool,
    before_seq: int | None,
    user_label: str | None = None,
) -> Any:
    query = filtered(select(orders), status, pair, user_label)
    if before_seq is not None:
        query = query.where(orders.c.seq < before_seq)
    query = query.order_by(orders.c.seq.desc() if newest_first else orders.c.seq)
    return query.limit(limit) if limit else query


async def orders_page(connection: AsyncConnection, query: Any, limit: int | None) -> list[Order]:
    """Orders without their logs (waiting limit orders with their terms), as `page_query` selects them."""
    result = await connection.execute(query)
    if limit is not None and limit < _LARGE_PAGE:
        found = [order_from_row(row) for row in result.mappings()]
    else:
        # The driver has already fetched every row; turning them into orders (decimals, times,
        # enums: ~20-40 µs a row) is pure Python, so a big page does it in a worker thread and the
        # loop keeps painting and running orders (a 100,000-order board held it for seconds).
        found = await asyncio.to_thread(lambda: [order_from_row(row) for row in result.mappings()])
    return await with_limit_terms(connection, found)  # a waiting limit order is listed with its limit


async def orders_after(
    connection: AsyncConnection, status: OrderStatus | None, pair: str | None, last_seq: int, chunk: int
) -> list[Order]:
    """The next `chunk` orders after `last_seq`, oldest first (exports stream through them)."""
    query = filtered(select(orders), status, pair).where(orders.c.seq > last_seq).order_by(orders.c.seq).limit(chunk)
    return [order_from_row(row) for row in (await connection.execute(query)).mappings()]


async def max_seq(connection: AsyncConnection) -> int:
    """The highest order sequence stored (0 for an empty database)."""
    return int((await connection.execute(select(func.coalesce(func.max(orders.c.seq), 0)))).scalar_one())


async def counts_by_status(connection: AsyncConnection) -> dict[OrderStatus, int]:
    result = await connection.execute(select(orders.c.status, func.count()).group_by(orders.c.status))
    return {OrderStatus(status): count for status, count in result}


async def executions(connection: AsyncConnection) -> dict[str, int]:
    """Executions per order id from the mock chain's ledger (a proof of 'never executed twice')."""
    result = await connection.execute(select(ledger.c.order_id, func.count()).group_by(ledger.c.order_id))
    return {order_id: count for order_id, count in result}
