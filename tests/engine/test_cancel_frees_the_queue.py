"""Cancelled orders leave the queue: they take no rate-limit start, and what comes next is not held behind them."""

from __future__ import annotations

import pytest

from engine.model.domain import OrderStatus
from engine.runtime.engine import Engine, engine_settings
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.engine.virtual import Timeline, on_virtual_time


def test_after_cancel_all_queued_new_orders_start_in_the_next_window(sqlite_url: str) -> None:
    settings = engine_settings(
        time_scale=1, concurrency=100, rate_limit=10, failure_rate=0.0, slippage_tolerance="0.5", seed=2
    )

    async def scenario(engine: Engine, timeline: Timeline) -> None:
        start = engine.clock.monotonic()
        await engine.submit_many(random_requests(default_catalog(), 100, seed=1))
        await engine.clock.sleep_until(start + 1)
        assert await engine.cancel_queued() == 90
        stats = engine.stats()
        assert stats.waiting == 0
        assert stats.drain_in_s is None
        late = await engine.submit_many(random_requests(default_catalog(), 3, seed=9))
        await engine.wait_idle()
        starts = {order_id: moment for moment, order_id in timeline.starts()}
        assert [starts[order.id] - start for order in late] == pytest.approx([60.0, 60.0, 60.0], abs=1e-6)
        counts = await engine.counts_by_status()
        assert counts[OrderStatus.CANCELLED] == 90
        assert counts[OrderStatus.CONFIRMED] == 13

    on_virtual_time(sqlite_url, settings, scenario)
