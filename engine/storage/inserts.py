"""New orders into the database: idempotent per order id, so a retried insert never stores one twice.

A transaction whose commit acknowledgement was lost is tried again whole; the ids chosen before the
first try then find the rows that try stored, and the orders come back as created by this caller.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.account.model import Reservation
from engine.model.domain import Order
from engine.storage import account_store
from engine.storage.rows import log_rows, order_from_row, order_row
from engine.storage.schema import order_logs, orders

_CHUNK = 500


async def insert_orders(
    connection: AsyncConnection,
    new_orders: Sequence[Order],
    reservations: Sequence[Reservation],
    *,
    owner: str,
    change_seq: int,
) -> list[tuple[Order, bool]]:
    """Each order as stored, and whether this call (or an earlier try of it) created it; see OrderStore.insert."""
    ids = [order.id for order in new_orders]
    existing = await orders_by_id(connection, ids)
    fresh = [order for order in new_orders if order.id not in existing]
    if fresh:
        rows = [{**order_row(order), "change_seq": change_seq} for order in fresh]
        await connection.execute(orders.insert(), rows)
        logs = [row for order in fresh for row in log_rows(order.id, 0, order.logs)]
        if logs:
            await connection.execute(order_logs.insert(), logs)
    # The new rows' sequences only: they are what the orders in hand lack (reading them
    # back as whole orders cost more than the insert).
    created = await _seqs_by_id(connection, [order.id for order in fresh])
    await account_store.reserve(connection, [item for item in reservations if item.order_id in created])
    results = []
    for order in new_orders:
        if order.id in created:
            results.append((order.evolve(seq=created[order.id]), True))
            continue
        stored = existing[order.id]
        results.append((order.evolve(seq=stored.seq), True) if earlier_try(stored, order, owner) else (stored, False))
    return results


def earlier_try(stored: Order, order: Order, owner: str) -> bool:
    """Whether the stored row is this very order, written by an earlier try of this insert.

    Ours, untouched since (version 0), and the same order: an id reused for a different order (an
    API client's Idempotency-Key sent again with another amount while the first order waits) is
    someone else's order, answered as stored, never with the new request's figures.
    """
    same = (stored.pair, stored.direction, stored.amount, stored.request_key) == (
        order.pair,
        order.direction,
        order.amount,
        order.request_key,
    )
    return same and stored.owner == owner and stored.version == 0


async def _seqs_by_id(connection: AsyncConnection, ids: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(ids), _CHUNK):
        query = select(orders.c.id, orders.c.seq).where(orders.c.id.in_(ids[start : start + _CHUNK]))
        found.update({order_id: seq for order_id, seq in await connection.execute(query)})
    return found


async def orders_by_id(connection: AsyncConnection, ids: Sequence[str]) -> dict[str, Order]:
    found: dict[str, Order] = {}
    for start in range(0, len(ids), _CHUNK):
        query = select(orders).where(orders.c.id.in_(ids[start : start + _CHUNK]))
        found.update({row["id"]: order_from_row(row) for row in (await connection.execute(query)).mappings()})
    return found
