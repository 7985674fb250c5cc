"""Issue 21: a waiting limit order taken over by another process triggers there with its log whole.

The process that resumed a limit order used to watch the copy from before its `resumed` entry was
stored, so the trigger's log entries collided with it and the trigger was lost. Two real engines
on one real database at time scale 0, where the market at an order's moment depends only on the
seed and the order's number: the first engine's market is above the limit (the order waits), the
second's below (it triggers as soon as it takes the order over).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from decimal import Decimal

from engine.model.domain import Direction, OrderStatus
from engine.model.log_kinds import LogKind
from engine.runtime.engine import Engine, EngineSettings, engine_settings
from engine.storage import OrderStore


def _settings(market_seed: int) -> EngineSettings:
    base = engine_settings(time_scale=0, rate_limit=0, seed=5, failure_rate=0)
    return replace(base, router=replace(base.router, market_seed=market_seed))


async def test_a_taken_over_limit_order_triggers_with_its_resumed_and_triggered_entries(db_url: str) -> None:
    first_settings, second_settings = _settings(1), _settings(2)
    prices = {}
    for seed, settings in ((1, first_settings), (2, second_settings)):
        probe = Engine(OrderStore(db_url), settings)
        at = probe.router.market.now(2)  # the order is number 1; each engine's book looks at number 2's moment
        decision = probe.router.quote_at("SOL-USDC", Decimal(1), Direction.BUY, at)
        prices[seed] = decision.chosen.effective_price
    low, high = sorted(prices.values())
    assert low < high
    limit = ((low + high) / 2).quantize(Decimal("0.0001"))
    waits_first, triggers_second = (1, 2) if prices[1] > prices[2] else (2, 1)
    settings = {1: first_settings, 2: second_settings}

    first = Engine(OrderStore(db_url), settings[waits_first])
    await first.start()
    try:
        order = await first.submit("SOL-USDC", "1", "BUY", order_type="limit", limit_price=str(limit))
        await first.limits.check()
        waiting = await first.order(order.id)
        assert waiting is not None
        assert waiting.status is OrderStatus.PENDING
    finally:
        await first.stop()  # a clean stop hands the waiting order back

    second = Engine(OrderStore(db_url), settings[triggers_second])
    await second.start()
    try:
        final = await second.wait_terminal(order.id)
    finally:
        await second.stop()
    assert final.status in (OrderStatus.CONFIRMED, OrderStatus.FAILED)
    kinds = [entry.kind for entry in final.logs]
    counts = Counter(kinds)
    assert counts[LogKind.RESUMED] == 1
    assert counts[LogKind.LIMIT_TRIGGERED] == 1
    assert kinds.index(LogKind.RESUMED) < kinds.index(LogKind.LIMIT_TRIGGERED)
