"""What other processes changed: the change feed read from a cursor, and the log lines a state has seen.

A process that follows orders others run (an engine noticing a cancel, `serve` and the desk following
another process's orders, a cluster producer) reads here. Rows this owner holds are left out in
SQL; what it changed of others' orders the caller skips by mark (`store.own_change_seqs`). The feed
itself (marks, cursors, the reads' SQL) is engine/storage/change_feed.py; this is its use through the
store, each read one retried transaction.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.model.domain import LogEntry, Order
from engine.storage import change_feed
from engine.storage.change_feed import FeedCursor
from engine.storage.rows import log_from_row
from engine.storage.schema import order_logs
from engine.storage.store import OrderStore


async def feed_cursor_now(store: OrderStore) -> FeedCursor:
    """The change feed's position now: a reader starting here reads only later changes."""

    async def work(connection: AsyncConnection) -> FeedCursor:
        return await change_feed.cursor_now(connection)

    cursor: FeedCursor = await store.transaction(work)
    return cursor


async def changes_since(store: OrderStore, cursor: FeedCursor) -> tuple[list[tuple[int, Order]], FeedCursor]:
    """Orders changed after `cursor` by anyone but this owner's writes, by mark, without logs; and the next cursor.

    Rows this owner holds are left out in SQL (its own writes); what it changed of others' orders
    (a cancel) the caller skips by mark (`store.own_change_seqs`).
    """

    async def work(connection: AsyncConnection) -> tuple[list[tuple[int, Order]], FeedCursor]:
        return await change_feed.read(connection, cursor, store.owner_id)

    changed: tuple[list[tuple[int, Order]], FeedCursor] = await store.transaction(work)
    return changed


async def changes_since_counted(
    store: OrderStore, cursor: FeedCursor
) -> tuple[list[tuple[int, Order, int]], FeedCursor]:
    """`changes_since`, with each row's log length (what its state has seen of its log)."""

    async def work(connection: AsyncConnection) -> tuple[list[tuple[int, Order, int]], FeedCursor]:
        return await change_feed.read_counted(connection, cursor, store.owner_id)

    changed: tuple[list[tuple[int, Order, int]], FeedCursor] = await store.transaction(work)
    return changed


async def log_slices(store: OrderStore, spans: dict[str, tuple[int, int]]) -> dict[str, list[LogEntry]]:
    """Each order's log entries from index `start` up to (not including) `end`, oldest first."""

    async def work(connection: AsyncConnection) -> dict[str, list[LogEntry]]:
        found: dict[str, list[LogEntry]] = {order_id: [] for order_id in spans}
        ids = sorted(spans)
        for begin in range(0, len(ids), 500):
            query = (
                select(order_logs)
                .where(order_logs.c.order_id.in_(ids[begin : begin + 500]))
                .order_by(order_logs.c.order_id, order_logs.c.idx)
            )
            for row in (await connection.execute(query)).mappings():
                start, end = spans[row["order_id"]]
                if start <= row["idx"] < end:
                    found[row["order_id"]].append(log_from_row(row))
        return found

    result: dict[str, list[LogEntry]] = await store.transaction(work)
    return result
