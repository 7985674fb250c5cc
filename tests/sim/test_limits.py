"""Limit orders: they wait without a slot, trigger when the best price reaches the limit, expire, cancel, resume."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from engine.model.domain import Direction, OrderStatus
from engine.model.log_kinds import LogKind
from engine.runtime.engine import Engine, engine_settings
from engine.runtime.limits import EXPIRED
from engine.storage import OrderStore
from engine.trading.market import Market
from tests.conftest import running
from tests.engine.virtual import Timeline, on_virtual_time

REAL_TIME = engine_settings(time_scale=1, rate_limit=0, seed=31, failure_rate=0)


def _reachable_buy_limit(engine: Engine, amount: Decimal, within_s: float) -> tuple[Decimal, Decimal]:
    """A BUY limit the market reaches within `within_s` seconds but not now: (limit, price now)."""
    start = engine.market_time()
    prices = [
        engine.router.quote_at("SOL-USDC", amount, Direction.BUY, start + second).chosen.effective_price
        for second in range(0, int(within_s))
    ]
    now, lowest = prices[0], min(prices)
    assert lowest < now, "this seed's SOL must dip within the window"
    return (now + lowest) / 2, now


def test_a_limit_order_waits_without_a_slot_then_triggers_and_fills_within_its_limit(sqlite_url: str) -> None:
    settings = engine_settings(time_scale=1, concurrency=1, rate_limit=0, seed=31, failure_rate=0)

    async def scenario(engine: Engine, timeline: Timeline) -> None:
        await engine.reset_account("USDC=100000,SOL=10")
        limit, now = _reachable_buy_limit(engine, Decimal(5), 1800)
        limit = limit.quantize(Decimal("0.0001"))
        order = await engine.submit("SOL-USDC", "5", "BUY", order_type="limit", limit_price=str(limit))
        assert order.id in engine.limits
        # While it waits, market orders use the one slot and finish: it holds none.
        market = await engine.submit("SOL-USDC", "1", "SELL")
        assert (await engine.wait_terminal(market.id)).status is OrderStatus.CONFIRMED
        assert engine.stats().waiting == 0
        final = await engine.wait_terminal(order.id)
        assert final.status is OrderStatus.CONFIRMED, final.error
        assert final.execution_price is not None
        assert final.execution_price <= limit < now
        stored = await engine.order(order.id)
        assert stored is not None
        triggered = [entry for entry in stored.logs if entry.kind == LogKind.LIMIT_TRIGGERED]
        waited_again = [entry for entry in stored.logs if entry.kind == LogKind.LIMIT_WAITING]
        # This seed's price touches the limit and bounces: the first swaps would land past it, so
        # the order goes back to waiting (never FAILED for that) until one lands within it.
        assert len(waited_again) >= 1
        assert len(triggered) == len(waited_again) + 1
        assert all(Decimal(str(entry.data["triggerPrice"])) <= limit for entry in triggered if entry.data)
        assert OrderStatus.FAILED not in [entry.status for entry in stored.logs]
        started = [moment for moment, update in timeline.of(order.id) if update.status == "ROUTING"]
        assert started
        assert started[0] - timeline.of(order.id)[0][0] > 1  # it waited for the market
        view = await engine.account()
        assert view is not None
        balances = {balance.token: balance for balance in view.balances}
        assert balances["USDC"].reserved == 0
        assert balances["SOL"].total == Decimal(14)

    on_virtual_time(sqlite_url, settings, scenario)


def test_a_limit_order_past_its_expiry_ends_without_a_swap_and_releases_its_reserve(sqlite_url: str) -> None:
    async def scenario(engine: Engine, timeline: Timeline) -> None:
        await engine.reset_account("USDC=1000")
        order = await engine.submit("SOL-USDC", "3", "BUY", order_type="limit", limit_price="10", expires_in="30")
        view = await engine.account()
        assert view is not None
        assert view.balances[0].reserved == Decimal(30)
        final = await engine.wait_terminal(order.id)
        assert final.status is OrderStatus.FAILED
        assert final.error == EXPIRED
        assert final.attempts == 0
        assert final.updated_at - final.created_at >= timedelta(seconds=30)
        assert final.updated_at - final.created_at < timedelta(seconds=31)
        assert [update.status for _moment, update in timeline.of(order.id)] == ["PENDING", "FAILED"]
        assert (await engine.store.executions()).get(order.id) is None
        view = await engine.account()
        assert view is not None
        assert view.balances[0].reserved == 0
        assert view.balances[0].total == Decimal(1000)

    on_virtual_time(sqlite_url, REAL_TIME, scenario)


async def test_a_waiting_limit_order_survives_a_restart_and_can_be_cancelled(sqlite_url: str) -> None:
    settings = engine_settings(time_scale=0, rate_limit=0, seed=2, failure_rate=0)
    async with running(sqlite_url, settings) as engine:
        await engine.reset_account("SOL=10")
        order = await engine.submit("SOL-USDC", "4", "SELL", order_type="limit", limit_price="100000")
    restarted = Engine(OrderStore(sqlite_url), settings)
    await restarted.start()
    try:
        assert [waiting.id for waiting in restarted.limits.waiting()] == [order.id]
        assert restarted.limits.waiting()[0].terms.limit_price == Decimal(100000)
        assert len(restarted.active_orders()) == 1
        assert restarted.running_count() == 0  # a closing desk does not wait for it
        await restarted.wait_running_done()
        cancelled = await restarted.cancel(order.id)
        assert cancelled.outcome == "cancelled"
        assert order.id not in restarted.limits
        assert (await restarted.cancel(order.id)).outcome == "too_late"
        view = await restarted.account()
        assert view is not None
        assert [(b.token, b.total, b.reserved) for b in view.balances] == [("SOL", Decimal(10), Decimal(0))]
        await restarted.wait_idle()
    finally:
        await restarted.stop()


async def test_a_limit_order_at_time_scale_0_triggers_when_orders_move_the_market(sqlite_url: str) -> None:
    settings = engine_settings(time_scale=0, rate_limit=0, seed=8, failure_rate=0)
    async with running(sqlite_url, settings) as engine:
        at = Market.order_time
        quote = engine.router.quote_at
        prices = [quote("SOL-USDC", Decimal(1), Direction.SELL, at(seq)).chosen.effective_price for seq in range(2, 80)]
        limit = (prices[0] + max(prices)) / 2
        order = await engine.submit(
            "SOL-USDC", "1", "SELL", order_type="limit", limit_price=str(limit.quantize(Decimal("0.0001")))
        )
        for _ in range(78):
            if order.id not in engine.limits:
                break
            await engine.wait_terminal((await engine.submit("USDC-USDT", "5", "BUY")).id)
        final = await engine.wait_terminal(order.id)
        assert final.status is OrderStatus.CONFIRMED, final.error
        assert final.execution_price is not None
        assert final.execution_price >= limit.quantize(Decimal("0.0001"))


def test_a_triggered_limit_that_misses_at_landing_waits_again_until_its_expiry(sqlite_url: str) -> None:
    settings = engine_settings(time_scale=1, concurrency=1, rate_limit=0, seed=31, failure_rate=0)

    async def scenario(engine: Engine, timeline: Timeline) -> None:
        await engine.reset_account("USDC=100000")
        limit, _now = _reachable_buy_limit(engine, Decimal(5), 1800)
        # Seed 31: it triggers after 91 s and 99 s, misses both times, and would next trigger
        # after 195 s; it expires at 120 s.
        order = await engine.submit(
            "SOL-USDC",
            "5",
            "BUY",
            order_type="limit",
            limit_price=str(limit.quantize(Decimal("0.0001"))),
            expires_in="120",
        )
        final = await engine.wait_terminal(order.id)
        assert final.status is OrderStatus.FAILED
        assert final.error == EXPIRED
        kinds = [entry.kind for entry in final.logs if entry.kind != LogKind.QUOTE]
        assert kinds.count(LogKind.LIMIT_WAITING) == 2
        assert kinds[-1] == LogKind.EXPIRED
        statuses = [update.status for _moment, update in timeline.of(order.id)]
        assert statuses.count("PENDING") == 5  # received, then twice triggered and back to waiting
        assert statuses[-1] == "FAILED"
        assert (await engine.store.executions()).get(order.id) is None
        view = await engine.account()
        assert view is not None
        assert [(b.token, b.total, b.reserved) for b in view.balances] == [("USDC", Decimal(100000), Decimal(0))]

    on_virtual_time(sqlite_url, settings, scenario)


def test_a_limit_order_waiting_again_after_a_miss_is_back_in_the_book_after_a_restart(sqlite_url: str) -> None:
    settings = engine_settings(time_scale=1, concurrency=1, rate_limit=0, seed=31, failure_rate=0)

    async def scenario(engine: Engine, timeline: Timeline) -> None:
        await engine.reset_account("USDC=100000")
        limit, _now = _reachable_buy_limit(engine, Decimal(5), 1800)
        missed = asyncio.Event()
        engine.subscribe(
            lambda update: missed.set() if any(e.kind == LogKind.LIMIT_WAITING for e in update.new_logs) else None
        )
        order = await engine.submit(
            "SOL-USDC", "5", "BUY", order_type="limit", limit_price=str(limit.quantize(Decimal("0.0001")))
        )
        await missed.wait()  # seed 31: its first trigger misses at landing (see the test above)
        await engine.stop()
        restarted = Engine(OrderStore(sqlite_url), settings)
        await restarted.start()
        try:
            [waiting] = restarted.limits.waiting()
            assert waiting.id == order.id
            assert (waiting.status, waiting.attempts, waiting.trigger_time) == (OrderStatus.PENDING, 0, None)
            final = await restarted.wait_terminal(order.id)
            assert final.status is OrderStatus.CONFIRMED, final.error
            assert final.execution_price is not None
            assert final.execution_price <= limit.quantize(Decimal("0.0001"))
        finally:
            await restarted.stop()

    on_virtual_time(sqlite_url, settings, scenario)
