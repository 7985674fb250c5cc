"""The stored order row is declared once (engine/storage/order_codec.py): what the group commit writes
on either database is exactly what SQLAlchemy's insert would store for the same order."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from engine.model.domain import OrderStatus
from engine.runtime.engine_config import engine_settings
from engine.storage.order_codec import STATE_NAMES
from engine.storage.rows import order_row
from engine.storage.schema import orders
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.conftest import running


async def test_the_group_commit_stores_what_the_insert_codec_says_on_both_databases(db_url: str) -> None:
    # Some orders fail (network failures and back-off at time scale 0), so FAILED rows and retries are written too.
    settings = engine_settings(time_scale=0, rate_limit=0, seed=11, failure_rate=0.3)
    async with running(db_url, settings) as engine:
        submitted = await engine.submit_many(random_requests(default_catalog(), 40, seed=5))
        await asyncio.wait_for(engine.wait_idle(), 60)
        async with engine.store.engine.connect() as connection:
            stored = {row["id"]: row for row in (await connection.execute(select(orders))).mappings()}
        ended = {order.id: await engine.order(order.id) for order in submitted}
    assert {order.status for order in ended.values() if order is not None} >= {OrderStatus.CONFIRMED}
    for order_id, order in ended.items():
        assert order is not None
        expected = order_row(order)
        row = stored[order_id]
        differing = {name: (row[name], expected[name]) for name in STATE_NAMES if row[name] != expected[name]}
        assert not differing, f"{order.status} order {order_id[:8]}: stored ≠ codec: {differing}"
