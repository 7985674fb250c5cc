"""The desk's history pages are the store's own snapshots, page for page, however they are read."""

from __future__ import annotations

from engine.model.validation import validate_order
from engine.runtime.engine import engine_settings
from tests.conftest import running


async def test_history_pages_are_the_stored_orders(db_url: str) -> None:
    # Network failures make FAILED orders with errors and retries beside CONFIRMED ones with routes.
    settings = engine_settings(time_scale=0, rate_limit=0, seed=5, failure_rate=0.5)
    async with running(db_url, settings) as engine:
        requests = [
            validate_order(pair, amount, side, engine.catalog)
            for pair, amount, side in [("SOL-USDC", "1.5", "BUY"), ("JUP-SOL", "40", "SELL")] * 12
        ]
        await engine.submit_many(requests)
        await engine.wait_idle()
        stored = await engine.orders_page(limit=100)
        newest = await engine.history_page(limit=10)
        older = await engine.history_page(limit=100, before_seq=newest[-1].seq)

    assert len(stored) == 24
    assert [*newest, *older] == stored
    assert any(order.route for order in stored)
    assert any(order.error for order in stored)
