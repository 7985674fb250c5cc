"""An order's life as a listener sees it: states, messages and stored fields, on both databases."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal

from engine.domain import OrderStatus, OrderUpdate
from engine.jsonfmt import dumps
from tests.conftest import running

HAPPY_PATH = ["PENDING", "ROUTING", "BUILDING", "SUBMITTED", "CONFIRMED"]


async def test_order_goes_through_every_state_and_is_stored_as_announced(db_url: str) -> None:
    updates: list[OrderUpdate] = []
    async with running(db_url) as engine:
        engine.subscribe(updates.append)
        order = await engine.submit("sol-usdc", "10.5", "buy")
        final = await engine.wait_terminal(order.id)
        stored = await engine.store.get(order.id)

    statuses = [update.message["status"] for update in updates]
    assert statuses[: len(HAPPY_PATH)] == HAPPY_PATH or "PENDING" in statuses[1:]
    assert final.status is OrderStatus.CONFIRMED or final.status is OrderStatus.FAILED
    assert stored is not None
    assert stored.pair == "SOL-USDC"
    assert stored.amount == Decimal("10.5")
    assert stored.status == final.status
    last = json.loads(dumps(updates[-1].message))
    if final.status is OrderStatus.CONFIRMED:
        assert set(last) == {"orderId", "status", "timestamp", "dex", "executionPrice", "txHash"}
        assert 87 <= len(last["txHash"]) <= 88
        assert Decimal(str(last["executionPrice"])) == stored.execution_price
    building = next(update.message for update in updates if update.message["status"] == "BUILDING")
    assert set(building) == {"orderId", "status", "timestamp", "dex", "executionPrice"}
    assert stored.logs[0].message.startswith("order received")


async def test_logs_only_grow_and_failure_reasons_persist(db_url: str) -> None:
    from engine.engine import engine_settings

    updates: list[OrderUpdate] = []
    settings = engine_settings(time_scale=0, rate_limit=0, seed=3, failure_rate=1.0)
    async with running(db_url, settings) as engine:
        engine.subscribe(updates.append)
        order = await engine.submit("RAY-USDC", "40", "BUY")
        await engine.wait_terminal(order.id)
        stored = await engine.store.get(order.id)

    snapshots = [update.order.logs for update in updates]
    for earlier, later in itertools.pairwise(snapshots):
        assert later[: len(earlier)] == earlier, "a log entry was rewritten or dropped"
    assert stored is not None
    assert stored.logs == snapshots[-1]
    assert sum(len(update.new_logs) for update in updates) == len(stored.logs)
    failures = [entry for entry in stored.logs if "failed:" in entry.message]
    assert len(failures) == 3, "every failed attempt keeps its own line"
    assert stored.status is OrderStatus.FAILED
    assert stored.execution_price is None, "a failed order paid no price"
    assert all(
        "executionPrice" not in update.message for update in updates if update.status is not OrderStatus.BUILDING
    )
    assert stored.error
    assert stored.error in failures[-1].message
