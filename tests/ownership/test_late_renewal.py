"""Issue 21: a process whose lease renewal came late keeps its own orders.

Under load (a busy machine, a locked SQLite file) a renewal can come after the lease ran out. The
engine's own take-over then claimed its own orders, bumping their versions, so every write of
its attempts in flight was refused and it dropped them as "taken over by another process",
leaving them PENDING with nobody working on them.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import update

from engine.model.domain import OrderStatus, OrderUpdate
from engine.runtime.engine import engine_settings
from engine.storage import ownership
from engine.storage.schema import owners
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.conftest import running
from tests.faults.support import eventually


async def test_a_process_whose_lease_ran_out_keeps_and_finishes_its_own_orders(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    slow = engine_settings(time_scale=0.05, rate_limit=0, concurrency=3, seed=4, failure_rate=0)
    async with running(db_url, slow) as engine:
        seen: list[OrderUpdate] = []
        engine.subscribe(seen.append)
        orders = await engine.submit_many(random_requests(default_catalog(), 9, seed=1))
        await eventually(lambda: any(update.status is OrderStatus.SUBMITTED for update in seen), "a swap in flight")
        # What a late renewal leaves in the database: this process's lease has run out.
        now = engine.clock.utc_now()
        async with engine.store.engine.begin() as connection:
            await connection.execute(
                update(owners).where(owners.c.id == engine.owner_id).values(lease_until=now - timedelta(seconds=1))
            )
        # The take-over every engine runs each half lease: nobody else claimed them, so they stay its own.
        with caplog.at_level(logging.WARNING):
            taken = await ownership.claim(engine.store, now=now, until=now + timedelta(seconds=engine.settings.lease_s))
            assert taken == []
            await engine.wait_idle()
        stored = [await engine.order(order.id) for order in orders]
        assert all(order is not None and order.is_terminal for order in stored), [
            order.status for order in stored if order is not None
        ]
        assert "dropped here" not in caplog.text
