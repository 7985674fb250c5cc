"""Issue 16 item 13: the rate limit holds per database, across a restart and across processes.

On the virtual clock, exactly: attempt starts (ROUTING announcements) of every engine on one
database, in any 60 s window, never exceed the limit. Before, a restart started a fresh window
(200 starts in 60 s) and two engines each had their own (130 and more).
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left

import pytest

from engine.model.clock import VirtualTimeLoop, run_virtual
from engine.model.domain import OrderStatus, OrderUpdate
from engine.runtime.engine import Engine, engine_settings
from engine.storage import OrderStore
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog

SETTINGS = engine_settings(time_scale=1, concurrency=10, rate_limit=100, failure_rate=0.0, seed=3)


def _most_in_a_minute(times: list[float]) -> int:
    ordered = sorted(times)
    return max((bisect_left(ordered, start + 60.0) - index for index, start in enumerate(ordered)), default=0)


def _recorder(engine: Engine, starts: list[float]) -> None:
    def on_update(update: OrderUpdate) -> None:
        if update.order.status is OrderStatus.ROUTING and not update.external:
            starts.append(engine.clock.monotonic())

    engine.subscribe(on_update)


@pytest.mark.slow
def test_a_restart_keeps_the_window(db_url: str) -> None:
    loop = VirtualTimeLoop()
    starts: list[float] = []

    async def scenario() -> None:
        first = Engine(OrderStore(db_url), SETTINGS)
        loop.real_work_pending = lambda: first.store.busy
        _recorder(first, starts)
        await first.start()
        await first.submit_many(random_requests(default_catalog(), 150, seed=4))
        used_its_minute = asyncio.Event()
        first.subscribe(lambda _update: used_its_minute.set() if len(starts) >= 100 else None)
        await used_its_minute.wait()  # the first process has used its whole minute, then stops (a restart)
        await first.stop()
        second = Engine(OrderStore(db_url), SETTINGS)
        loop.real_work_pending = lambda: second.store.busy
        _recorder(second, starts)
        await second.start()
        try:
            await second.wait_idle()
        finally:
            await second.stop()

    run_virtual(scenario(), loop)
    assert len(starts) >= 150
    assert _most_in_a_minute(starts) == 100


@pytest.mark.slow
def test_two_engines_on_one_database_share_the_window(db_url: str) -> None:
    loop = VirtualTimeLoop()
    starts: list[float] = []

    async def scenario() -> None:
        engines = [Engine(OrderStore(db_url), SETTINGS) for _ in range(2)]
        loop.real_work_pending = lambda: any(engine.store.busy for engine in engines)
        for engine in engines:
            _recorder(engine, starts)
            await engine.start()
        try:
            for index, engine in enumerate(engines):
                await engine.submit_many(random_requests(default_catalog(), 130, seed=10 + index))
            for engine in engines:
                await engine.wait_idle()
        finally:
            for engine in engines:
                await engine.stop()

    run_virtual(scenario(), loop)
    assert len(starts) >= 260  # slippage failures are retried, and a retry is an attempt start too
    assert _most_in_a_minute(starts) == 100


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
