"""New orders' own lane (engine/storage/intake.py): tuples straight to the driver on a connection of
its own, storing exactly what SQLAlchemy's insert stores, idempotent per id, and reserving through
the paper account when there is one. Real SQLite files and real PostgreSQL schemas."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select

from engine.account.model import reservation_for
from engine.model.domain import Direction, Order
from engine.model.validation import InvalidOrder
from engine.storage import OrderStore
from engine.storage.account_store import account_balances, account_reservations
from engine.storage.inserts import insert_orders
from engine.storage.schema import order_logs, orders
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.conftest import postgres_schema
from tests.faults.support import eventually
from tests.services import POSTGRES_ADMIN_URL

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def _new_orders(count: int, seed: int, owner: str = "host:1:test") -> list[Order]:
    requests = random_requests(default_catalog(), count, seed=seed)
    return [request.to_order(NOW).evolve(owner=owner) for request in requests]


async def _rows(store: OrderStore, ids: list[str]) -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    async with store.engine.connect() as connection:
        found = (await connection.execute(select(orders).where(orders.c.id.in_(ids)))).mappings()
        rows = {row["id"]: dict(row) for row in found}
        logged = (await connection.execute(select(order_logs).where(order_logs.c.order_id.in_(ids)))).mappings()
        logs: dict[str, list[dict[str, Any]]] = {}
        for row in logged:
            logs.setdefault(row["order_id"], []).append(dict(row))
    return rows, logs


def _same_order(order: Order) -> Order:
    """The same order under another id, to store it by SQLAlchemy's path beside the lane's."""
    twin = order.evolve(id=order.id[:-4] + "ffff")
    return twin


async def test_the_lane_stores_what_sqlalchemys_insert_stores(db_url: str) -> None:
    store = OrderStore(db_url, owner_id="host:1:test")
    await store.open()
    try:
        fresh = _new_orders(25, seed=3)
        through_lane = await store.insert(fresh)
        twins = [_same_order(order) for order in fresh]
        through_sqlalchemy = await store.transaction(
            lambda connection: insert_orders(connection, twins, (), owner="host:1:test", change_seq=0)
        )
        lane_rows, lane_logs = await _rows(store, [order.id for order in fresh])
        twin_rows, twin_logs = await _rows(store, [order.id for order in twins])
    finally:
        await store.close()
    assert [created for _, created in through_lane] == [True] * 25
    assert [order.seq for order, _ in through_lane] == [lane_rows[order.id]["seq"] for order in fresh]
    assert len({order.seq for order, _ in through_lane}) == 25
    assert all(created for _, created in through_sqlalchemy)
    for order, twin in zip(fresh, twins, strict=True):
        mine, theirs = lane_rows[order.id], twin_rows[twin.id]
        differing = {
            name: (mine[name], theirs[name])
            for name in mine
            if name not in ("id", "seq", "change_seq") and mine[name] != theirs[name]
        }
        assert not differing, differing
        strip = [{k: v for k, v in row.items() if k not in ("order_id", "id")} for row in lane_logs[order.id]]
        twin_strip = [{k: v for k, v in row.items() if k not in ("order_id", "id")} for row in twin_logs[twin.id]]
        assert strip
        assert strip == twin_strip


async def test_a_repeated_batch_is_one_order_each_and_a_reused_id_is_answered_as_stored(db_url: str) -> None:
    store = OrderStore(db_url, owner_id="host:1:test")
    await store.open()
    try:
        first = _new_orders(10, seed=4)
        stored = await store.insert(first)
        # The very same orders again (an earlier try whose acknowledgement was lost): created by this caller.
        again = await store.insert([*first[:5], *_new_orders(3, seed=5)])
        # Another order under a stored id (an Idempotency-Key reused with another amount): the stored one.
        other = first[0].evolve(amount=first[0].amount + Decimal(1))
        [(answer, created)] = await store.insert([other])
        rows, logs = await _rows(store, [order.id for order in first])
    finally:
        await store.close()
    assert [order.seq for order, _ in again[:5]] == [order.seq for order, _ in stored[:5]]
    assert all(created for _, created in again)
    assert (created, answer.amount, answer.seq) == (False, first[0].amount, stored[0][0].seq)
    assert len(rows) == 10
    assert all(len(logs[order.id]) == len(order.logs) for order in first)


async def test_with_a_paper_account_the_lane_reserves_and_refuses_a_shortfall(db_url: str) -> None:
    store = OrderStore(db_url, owner_id="host:1:test")
    await store.open()
    try:
        await store.reset_account({"USDC": Decimal(1_000_000), "SOL": Decimal(10)}, NOW)
        base = _new_orders(2, seed=6)
        sells = [order.evolve(pair="SOL-USDC", direction=Direction.SELL, amount=Decimal(2)) for order in base]
        affordable = sells[:1]
        reservations = [item for item in map(reservation_for, affordable) if item is not None]
        await store.insert(affordable, reservations)
        too_much = sells[1].evolve(amount=Decimal(9))
        with pytest.raises(InvalidOrder):
            await store.insert([too_much], [item for item in [reservation_for(too_much)] if item is not None])
        async with store.engine.connect() as connection:
            held = (await connection.execute(select(account_reservations))).mappings().all()
            sol = (
                (await connection.execute(select(account_balances).where(account_balances.c.token == "SOL")))
                .mappings()
                .one()
            )
        rows, _ = await _rows(store, [too_much.id])
    finally:
        await store.close()
    assert [row["order_id"] for row in held] == [affordable[0].id]
    assert sol["reserved"] == affordable[0].amount
    assert rows == {}


async def test_an_insert_behind_another_process_s_unfinished_insert_of_the_same_id_waits_and_lands() -> None:
    """PostgreSQL: the lane's statement meets a stalled transaction holding the same new id; its lock
    timeout is retried by the store (not an error for the POST), and the order lands once the other ends."""
    async with postgres_schema() as url:
        store = OrderStore(url, owner_id="host:1:test")
        await store.open()
        blocker = await asyncpg.connect(POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            [order] = _new_orders(1, seed=9)
            schema = url.rpartition("schema=")[2]
            transaction = blocker.transaction()
            await transaction.start()
            await blocker.execute(
                f'INSERT INTO "{schema}".orders (id, pair, direction, amount, status, attempts, created_at, '
                "updated_at, log_count) VALUES ($1, $2, $3, $4, 'PENDING', 0, now(), now(), 0)",
                order.id,
                order.pair,
                str(order.direction),
                order.amount,
            )
            inserting = asyncio.create_task(store.insert([order]))
            await eventually(lambda: store.retries >= 1, "the lane to retry past the lock timeout", within=20)
            assert not inserting.done()
            await transaction.rollback()
            [(stored, created)] = await asyncio.wait_for(inserting, 20)
        finally:
            await blocker.close()
            await store.close()
    assert created
    assert stored.id == order.id
