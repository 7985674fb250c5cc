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


_STEP_S = 0.25
# A triggered swap lands 2.7–3.7 s of market time after its trigger (quote 0.2 s, build 0.5 s, swap
# 2–3 s); the window looked at is a little wider.
_LANDING = range(int(2.5 / _STEP_S), int(4.5 / _STEP_S) + 1)


def _bouncing_buy_limit(engine: Engine, amount: Decimal, within_s: float, expires_s: float | None = None) -> Decimal:
    """A SOL-USDC BUY limit the market touches for a moment and leaves at once, so the first trigger's
    swap would land past it, found in this engine's own market: not reached now; with `expires_s`,
    touched only that once before it expires; without, reached again later for long enough to fill.

    The scenario is read off the market rather than trusted to a seed: each seed's market has record
    lows, and the first one that bounces this way is the limit."""
    start = engine.market_time()
    quote = engine.router.quote_at
    steps = int(within_s / _STEP_S)
    prices = [
        quote("SOL-USDC", amount, Direction.BUY, start + i * _STEP_S).chosen.effective_price for i in range(steps)
    ]
    lowest = prices[0]
    for index, price in enumerate(prices):
        if price >= lowest or index + _LANDING[-1] >= steps:
            continue
        lowest = price  # a record low: nothing before it reached this limit
        landing = [prices[index + ahead] for ahead in _LANDING]
        if min(landing) <= price:
            continue  # the swap could land within it: no miss
        later = [at for at in range(index + 1, steps) if prices[at] <= price]
        if expires_s is not None:
            if index * _STEP_S < expires_s - 10 and all(at * _STEP_S > expires_s + 5 for at in later):
                return price
        elif any(all(p <= price for p in prices[at : at + 20]) for at in later):
            return price
    raise AssertionError("this seed's SOL must touch a record low and bounce within the window")


def test_a_limit_order_waits_without_a_slot_then_triggers_and_fills_within_its_limit(sqlite_url: str) -> None:
    settings = engine_settings(time_scale=1, concurrency=1, rate_limit=0, seed=31, failure_rate=0)

    async def scenario(engine: Engine, timeline: Timeline) -> None:
        await engine.reset_account("USDC=100000,SOL=10")
        now = engine.router.quote_at("SOL-USDC", Decimal(5), Direction.BUY, engine.market_time()).chosen.effective_price
        limit = _bouncing_buy_limit(engine, Decimal(5), 1800)
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
        # The price touches the limit and bounces: the first swap would land past it, so the order
        # goes back to waiting (never FAILED for that) until one lands within it.
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

        def sell(moment: float) -> Decimal:
            return quote("SOL-USDC", Decimal(1), Direction.SELL, moment).chosen.effective_price

        # A limit between the price now and a stretch of 5 s (a swap's landing) the orders will move
        # the market through: it triggers, and whatever a first landing does, it fills by that stretch.
        now = sell(at(2))
        stretch = max(min(sell(at(seq) + half / 2) for half in range(11)) for seq in range(3, 150))
        assert stretch > now, "this seed's SOL must rise within 150 orders"
        limit = ((now + stretch) / 2).quantize(Decimal("0.0001"))
        order = await engine.submit("SOL-USDC", "1", "SELL", order_type="limit", limit_price=str(limit))
        for _ in range(150):
            stored = await engine.order(order.id)
            if stored is not None and stored.status.is_terminal:
                break
            await engine.wait_terminal((await engine.submit("USDC-USDT", "5", "BUY")).id)
        final = await engine.wait_terminal(order.id)
        assert final.status is OrderStatus.CONFIRMED, final.error
        assert final.execution_price is not None
        assert final.execution_price >= limit


def test_a_triggered_limit_that_misses_at_landing_waits_again_until_its_expiry(sqlite_url: str) -> None:
    settings = engine_settings(time_scale=1, concurrency=1, rate_limit=0, seed=31, failure_rate=0)

    async def scenario(engine: Engine, timeline: Timeline) -> None:
        await engine.reset_account("USDC=100000")
        # Touched once before its expiry at 120 s, the swap would land past it; not reached again in time.
        limit = _bouncing_buy_limit(engine, Decimal(5), 1800, expires_s=120)
        order = await engine.submit(
            "SOL-USDC", "5", "BUY", order_type="limit", limit_price=str(limit), expires_in="120"
        )
        final = await engine.wait_terminal(order.id)
        assert final.status is OrderStatus.FAILED
        assert final.error == EXPIRED
        kinds = [entry.kind for entry in final.logs if entry.kind != LogKind.QUOTE]
        misses = kinds.count(LogKind.LIMIT_WAITING)
        assert misses >= 1
        assert kinds.count(LogKind.LIMIT_TRIGGERED) == misses  # every trigger missed and waited again
        assert kinds[-1] == LogKind.EXPIRED
        statuses = [update.status for _moment, update in timeline.of(order.id)]
        assert statuses.count("PENDING") == 1 + 2 * misses  # received, then each time triggered and back
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
        limit = _bouncing_buy_limit(engine, Decimal(5), 1800)
        missed = asyncio.Event()
        engine.subscribe(
            lambda update: missed.set() if any(e.kind == LogKind.LIMIT_WAITING for e in update.new_logs) else None
        )
        order = await engine.submit("SOL-USDC", "5", "BUY", order_type="limit", limit_price=str(limit))
        await missed.wait()  # its first trigger misses at landing (`_bouncing_buy_limit`)
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
            assert final.execution_price <= limit
        finally:
            await restarted.stop()

    on_virtual_time(sqlite_url, settings, scenario)
