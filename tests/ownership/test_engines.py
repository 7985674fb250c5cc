"""Two engines on one database: each order has one owner, the other sees it live, cancel works across them."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from engine.model.clock import VirtualTimeLoop, run_virtual
from engine.model.domain import Direction, OrderStatus, OrderType, OrderUpdate
from engine.model.log_kinds import LogKind
from engine.runtime.engine import Engine, engine_settings
from engine.storage import OrderStore
from tests.conftest import running
from tests.faults.support import eventually


async def test_another_engine_sees_every_change_as_external_updates_and_never_runs_the_order(db_url: str) -> None:
    slow = engine_settings(time_scale=0.05, rate_limit=0, concurrency=1, seed=4, failure_rate=0)
    async with running(db_url, slow) as owner, running(db_url) as watcher:
        seen: list[OrderUpdate] = []
        watcher.subscribe(seen.append)
        orders = [await owner.submit("SOL-USDC", "1", "BUY") for _ in range(3)]
        await eventually(lambda: watcher.others_active_count(), "the watcher counting the owner's orders")
        finals = [await watcher.wait_terminal(order.id) for order in orders]

        assert {final.status for final in finals} == {OrderStatus.CONFIRMED}
        # The end may be read from the database a moment before the feed brings it.
        ended = {order.id for order in orders}
        await eventually(
            lambda: {update.order_id for update in seen if update.status is OrderStatus.CONFIRMED} == ended,
            "every order's end through the change feed",
        )
        assert all(update.external for update in seen)
        assert watcher.owned_count() == 0
        assert watcher.active_orders() == []
        await watcher.wait_idle()  # returns at once: the watcher waits only for orders it owns
        assert (await owner.store.executions()) == {order.id: 1 for order in orders}


async def test_cancel_from_another_engine_stops_queued_orders_and_refuses_finished_ones(db_url: str) -> None:
    slow = engine_settings(time_scale=0.2, rate_limit=0, concurrency=1, seed=4, failure_rate=0)
    async with running(db_url, slow) as owner, running(db_url) as other:
        orders = [await owner.submit("SOL-USDC", "1", "BUY") for _ in range(4)]
        queued = orders[-1]
        result = await other.cancel(queued.id)
        assert result.outcome == "cancelled"
        assert result.order is not None
        assert result.order.status is OrderStatus.CANCELLED
        # The owner drops it (its waiters see it end) without ever starting it.
        final = await owner.wait_terminal(queued.id)
        assert final.status is OrderStatus.CANCELLED
        assert queued.id not in {order.id for order in owner.active_orders()}

        cancelled_here = await owner.cancel_queued()
        assert cancelled_here >= 1
        await owner.wait_idle()
        stored = [await owner.order(order.id) for order in orders]
        assert all(order is not None and order.is_terminal for order in stored)
        executions = await owner.store.executions()
        for order in stored:
            assert order is not None
            assert executions.get(order.id, 0) == (1 if order.status is OrderStatus.CONFIRMED else 0)
            if order.status is OrderStatus.CANCELLED:
                assert order.logs[-1].kind == LogKind.CANCELLED
                assert not any(entry.kind == LogKind.SUBMITTED for entry in order.logs)

        done = next(order for order in stored if order is not None and order.status is OrderStatus.CONFIRMED)
        refused = await other.cancel(done.id)
        assert (refused.outcome, refused.reason) == ("too_late", "already CONFIRMED: nothing left to cancel")
        assert (await other.cancel("no-such-order")).outcome == "unknown"


def test_an_order_stopped_1s_into_its_4s_backoff_waits_the_remaining_3s_after_a_restart(sqlite_url: str) -> None:
    settings = engine_settings(time_scale=1, rate_limit=0, failure_rate=1.0, seed=1)
    loop = VirtualTimeLoop()

    async def main() -> None:
        first = Engine(OrderStore(sqlite_url), settings)
        loop.real_work_pending = lambda: first.store.busy
        await first.start()
        backing_off: asyncio.Future[float] = loop.create_future()

        def on_update(update: OrderUpdate) -> None:
            if update.message.get("retryInMs") == 4000 and not backing_off.done():
                backing_off.set_result(first.clock.monotonic())

        first.subscribe(on_update)
        order = await first.submit("SOL-USDC", "2", "SELL")
        await first.clock.sleep_until(await backing_off + 1.0)
        await first.stop()  # 1 s into the 4 s back-off

        second = Engine(OrderStore(sqlite_url), settings)
        loop.real_work_pending = lambda: second.store.busy
        await second.start()
        try:
            final = await second.wait_terminal(order.id)
        finally:
            await second.stop()
        assert final.status is OrderStatus.FAILED
        assert final.attempts == 3
        stored = await _stored(sqlite_url, order.id)
        resumed = next(entry for entry in stored.logs if entry.kind == LogKind.RESUMED)
        assert resumed.data is not None
        assert resumed.data["retryInMs"] == 3000
        third = next(
            entry
            for entry in stored.logs
            if entry.kind == LogKind.ATTEMPT_STARTED and entry.data and entry.data["attempt"] == 3
        )
        assert (third.timestamp - resumed.timestamp).total_seconds() == pytest.approx(3.0, abs=0.002)

    run_virtual(main(), loop)


async def _stored(url: str, order_id: str):  # type: ignore[no-untyped-def]
    store = OrderStore(url)
    await store.open()
    try:
        return await store.get(order_id)
    finally:
        await store.close()


async def test_another_engines_waiting_limit_order_is_heard_and_listed_with_its_limit(db_url: str) -> None:
    # The watcher reads the owner's orders as rows, without logs; a limit order's terms are in its log.
    watching = engine_settings(time_scale=1, rate_limit=0, seed=4, failure_rate=0)
    async with running(db_url, watching) as owner, running(db_url, watching) as watcher:
        heard: list[OrderUpdate] = []
        watcher.subscribe(heard.append)
        price = owner.indicative_quote("SOL-USDC", Decimal(2), Direction.BUY).chosen.effective_price
        limit = (price / 2).quantize(Decimal("0.0001"))  # far below the market: it waits
        order = await owner.submit("SOL-USDC", "2", "BUY", order_type="limit", limit_price=str(limit))
        market = await owner.submit("SOL-USDC", "1", "BUY")
        await eventually(lambda: any(update.order_id == order.id for update in heard), "the watcher hearing it")

        [update] = [update for update in heard if update.order_id == order.id]
        assert update.external
        assert update.order.terms.type is OrderType.LIMIT
        assert update.order.terms.price_bound == limit
        listed = {listed.id: listed for listed in await watcher.orders_page(limit=10)}
        history = {listed.id: listed for listed in await watcher.history_page(limit=10)}
        for page in (listed, history):
            assert page[order.id].terms.type is OrderType.LIMIT
            assert page[order.id].terms.price_bound == limit
            assert page[order.id].trigger_time is None
            assert page[market.id].terms.type is OrderType.MARKET
