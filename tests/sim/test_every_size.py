"""Every valid size works; what the pools cannot fill is refused at validation; one bad order never stops the book."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from decimal import Decimal

import pytest

from engine.model.domain import Direction, OrderStatus, OrderType
from engine.model.validation import InvalidOrder, OrderRequest
from engine.runtime.engine import engine_settings
from engine.storage import OrderStore, cancels
from engine.trading.pairs import default_catalog
from tests.conftest import running


async def test_the_largest_size_of_every_pair_fills_or_is_refused_at_validation_naming_the_depth(
    sqlite_url: str,
) -> None:
    settings = engine_settings(time_scale=0, rate_limit=0, seed=4, failure_rate=0)
    refused: list[str] = []
    async with running(sqlite_url, settings) as engine:
        for spec in default_catalog():
            for direction in Direction:
                try:
                    order = await engine.submit(spec.pair, str(spec.max_amount), str(direction))
                except InvalidOrder as invalid:
                    [error] = invalid.errors
                    assert error.field == "amount"
                    assert "depth" in error.rule
                    assert spec.base in error.rule
                    refused.append(f"{spec.pair} {direction}")
                    continue
                final = await engine.wait_terminal(order.id)
                assert final.status is OrderStatus.CONFIRMED, (spec.pair, direction, final.error)
        # One below the depth fills: the refusal is the pools' depth, not a rounding accident.
        order = await engine.submit("JUP-SOL", "4999999", "BUY")
        assert (await engine.wait_terminal(order.id)).status is OrderStatus.CONFIRMED
    # JUP-SOL's maximum equals Meteora's depth: a BUY of it is the one size no pool pair can fill.
    assert refused == ["JUP-SOL BUY"]
    with pytest.raises(InvalidOrder, match=r"amount: a BUY must be below 5,000,000 JUP, the depth of Meteora"):
        engine.validate("JUP-SOL", "5000000", "BUY")


async def test_a_failing_limit_order_next_to_healthy_ones_does_not_stop_their_triggers(sqlite_url: str) -> None:
    settings = engine_settings(time_scale=0, rate_limit=0, seed=5, failure_rate=0)
    async with running(sqlite_url, settings) as engine:
        # As a database written before this release may hold it: past validation, BUY the whole pool.
        poisoned = OrderRequest(
            "JUP-SOL", Decimal(5_000_000), Direction.BUY, order_type=OrderType.LIMIT, limit_price=Decimal(1)
        )
        healthy = [
            OrderRequest(
                "SOL-USDC", Decimal(1), Direction.BUY, order_type=OrderType.LIMIT, limit_price=Decimal(100_000)
            )
            for _ in range(3)
        ]
        stored = await engine.submit_many([poisoned, *healthy])
        # A stopped book would leave them waiting for ever: give up after a minute instead.
        finals = [await asyncio.wait_for(engine.wait_terminal(order.id), 60) for order in stored]
    assert finals[0].status is OrderStatus.FAILED
    assert finals[0].error is not None
    assert finals[0].error.startswith("could not be priced")
    assert [final.status for final in finals[1:]] == [OrderStatus.CONFIRMED] * 3


async def test_a_cancel_racing_a_trigger_logs_no_traceback(sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    settings = engine_settings(time_scale=0, rate_limit=0, seed=6, failure_rate=0)
    async with running(sqlite_url, settings) as engine:
        order = await engine.submit("SOL-USDC", "1", "BUY", order_type="limit", limit_price="1")
        await engine.limits.stop()  # the book is checked by hand below, at the racing moment
        other = OrderStore(sqlite_url)  # another process cancels it...
        await other.open()
        try:
            [cancelled] = await cancels.cancel(other, [order.id], now=engine.clock.utc_now(), by="another process")
        finally:
            await other.close()
        assert cancelled.outcome == "cancelled"
        # ...at the moment this process sees its price reached and triggers it.
        [waiting] = engine.limits.waiting()
        reached = dataclasses.replace(waiting.terms, price_bound=Decimal(100_000))
        engine.limits.add(waiting.evolve(terms=reached))
        with caplog.at_level(logging.INFO):
            await engine.limits.check()
        assert order.id not in engine.limits
        assert not [record for record in caplog.records if record.levelno >= logging.ERROR or record.exc_info]
        final = await engine.store.get(order.id)
        assert final is not None
        assert final.status is OrderStatus.CANCELLED
