"""Issue 26: an engine's memory follows what is in flight, not what is queued.

`dexdesk run --orders 100000` peaked at over 600 MB: the engine kept every queued order as a full
`Order` with its log from submission to its end. Past `KEEP_WHOLE` orders a queued order is now
kept as its id; its row is read back (with the next ones in line, in one read) when it starts, and
dropped when it ends. A line shorter than that is kept whole: nothing is read back.
"""

from __future__ import annotations

import pytest

from engine.model.domain import OrderStatus, OrderUpdate
from engine.runtime import active_orders
from engine.runtime.engine import Engine, engine_settings
from engine.runtime.local_plugs import READ_AHEAD
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.engine.virtual import Timeline, on_virtual_time

ORDERS = 2000
CONCURRENCY = 4


KEEP_WHOLE = 100  # the real bound is 20,000: the same rule, on a line 20 times as long as it


def test_past_the_bound_queued_orders_are_kept_as_ids_and_read_back_as_they_start(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(active_orders, "KEEP_WHOLE", KEEP_WHOLE)
    settings = engine_settings(time_scale=0, concurrency=CONCURRENCY, rate_limit=0, failure_rate=0.1, seed=3)

    async def scenario(engine: Engine, timeline: Timeline) -> None:
        kept: list[int] = []

        def on_update(_update: OrderUpdate) -> None:
            kept.append(len(engine.active_orders()))

        engine.subscribe(on_update)
        submitted = await engine.submit_many(random_requests(default_catalog(), ORDERS, seed=5))
        assert engine.owned_count() == ORDERS
        # The first KEEP_WHOLE held whole as submitted, the rest as ids, none read back yet.
        assert [order.id for order in engine.active_orders()] == [order.id for order in submitted[:KEEP_WHOLE]]
        await engine.wait_idle()
        # Held whole: those, a read-ahead batch, the attempts in flight or settling, and a few backing off.
        assert max(kept) <= KEEP_WHOLE + 2 * READ_AHEAD + 2 * CONCURRENCY
        assert engine.owned_count() == 0
        stored = {order.id: order for order in await engine.orders_page(limit=ORDERS)}
        assert set(stored) == {order.id for order in submitted}
        assert all(order.is_terminal for order in stored.values())
        assert sum(order.status is OrderStatus.CONFIRMED for order in stored.values()) > ORDERS * 0.9
        # Retried orders (back-off at time scale 0) ran from their stored state like the rest.
        assert any(order.attempts > 1 for order in stored.values())

    on_virtual_time(sqlite_url, settings, scenario)


def test_a_line_shorter_than_the_bound_is_held_whole_and_never_read_back(sqlite_url: str) -> None:
    settings = engine_settings(time_scale=0, concurrency=CONCURRENCY, rate_limit=0, seed=3)

    async def scenario(engine: Engine, timeline: Timeline) -> None:
        submitted = await engine.submit_many(random_requests(default_catalog(), 300, seed=5))
        assert [order.id for order in engine.active_orders()] == [order.id for order in submitted]
        await engine.wait_idle()
        stored = await engine.orders_page(limit=300)
        assert len(stored) == 300
        assert all(order.is_terminal for order in stored)

    on_virtual_time(sqlite_url, settings, scenario)
