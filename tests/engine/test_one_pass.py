"""One pass per state change: the row and the message are made directly, a snapshot only when asked for.

An attempt used to copy the whole `Order` at each of its states; now it builds one when the attempt
starts (the engine's own copy) and one when it ends. Every announced update still gives the
listener that asks its exact snapshot (`update.order`), built later from that very state, whatever
the order did since; and its JSON line is made once for every listener that sends it.
"""

from __future__ import annotations

import asyncio

import pytest

from engine.model.domain import Order, OrderStatus, OrderUpdate
from engine.model.jsonfmt import dumps
from engine.runtime.engine_config import engine_settings
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.conftest import running

ORDERS = 30


async def test_an_attempt_builds_no_snapshot_per_state(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = engine_settings(time_scale=0, rate_limit=0, seed=4, failure_rate=0.2)
    async with running(sqlite_url, settings) as engine:
        attempts = 0

        def count_attempts(update: OrderUpdate) -> None:
            nonlocal attempts
            attempts += update.status is OrderStatus.ROUTING

        engine.subscribe(count_attempts)
        built = 0
        evolve = Order.evolve

        def counted(order: Order, **changes: object) -> Order:
            nonlocal built
            built += 1
            return evolve(order, **changes)

        submitted = await engine.submit_many(random_requests(default_catalog(), ORDERS, seed=2))
        monkeypatch.setattr(Order, "evolve", counted)
        await asyncio.wait_for(engine.wait_idle(), 60)
        monkeypatch.undo()
    assert len(submitted) == ORDERS
    assert attempts > ORDERS, "some attempts failed and were retried"
    # An attempt's start and its outcome: two, where every state (four or five) used to make one.
    assert built <= 2 * attempts, f"{built} snapshots for {attempts} attempts"


async def test_every_update_still_gives_the_snapshot_of_its_own_state(db_url: str) -> None:
    settings = engine_settings(time_scale=0, rate_limit=0, seed=4, failure_rate=0.2)
    heard: list[OrderUpdate] = []
    async with running(db_url, settings) as engine:
        engine.subscribe(heard.append)
        submitted = await engine.submit_many(random_requests(default_catalog(), ORDERS, seed=2))
        await asyncio.wait_for(engine.wait_idle(), 60)
        stored = {order.id: await engine.order(order.id) for order in submitted}
    by_order: dict[str, list[OrderUpdate]] = {}
    for update in heard:
        by_order.setdefault(update.order_id, []).append(update)
    for order_id, updates in by_order.items():
        final = stored[order_id]
        assert final is not None
        # Asked for only now, long after the order moved on: each is still its own state's.
        snapshots = [update.order for update in updates]
        assert [snapshot.version for snapshot in snapshots] == list(range(len(updates)))
        for update, snapshot in zip(updates, snapshots, strict=True):
            assert (snapshot.id, snapshot.status) == (order_id, update.status)
            assert (snapshot.version, snapshot.attempts, snapshot.updated_at) == (
                update.version,
                update.attempts,
                update.updated_at,
            )
            assert snapshot.logs == final.logs[: len(snapshot.logs)], "a snapshot's log is the stored log so far"
            assert update.message["status"] == str(snapshot.status)
            assert update.text == dumps(update.message)
        last = snapshots[-1]
        assert (last.status, last.execution_price, last.tx_hash, last.error, last.route) == (
            final.status,
            final.execution_price,
            final.tx_hash,
            final.error,
            final.route,
        )
        assert len(last.logs) == len(final.logs)
