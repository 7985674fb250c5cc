"""Back-off, concurrency and the rate limit, proven exactly on simulated time (no waiting)."""

from __future__ import annotations

from itertools import pairwise

import pytest

from engine.model.domain import OrderStatus
from engine.runtime.engine import Engine, engine_settings
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.engine.virtual import Timeline, on_virtual_time


def test_retries_wait_2s_then_4s_and_the_third_failure_is_final(sqlite_url: str) -> None:
    settings = engine_settings(time_scale=1, rate_limit=100, failure_rate=1.0, seed=1)

    async def scenario(engine: Engine, timeline: Timeline) -> None:
        order = await engine.submit("SOL-USDC", "2", "SELL")
        final = await engine.wait_terminal(order.id)
        stored = await engine.store.get(order.id)

        history = timeline.of(order.id)
        retries = [(moment, update.message) for moment, update in history if "retryInMs" in update.message]
        assert [message["retryInMs"] for _, message in retries] == [2000, 4000]
        assert [message["attempt"] for _, message in retries] == [1, 2]
        routing_times = [moment for moment, update in history if update.status == "ROUTING"]
        assert len(routing_times) == 3
        # The next attempt starts exactly when the back-off ends, not a moment sooner.
        assert routing_times[1] - retries[0][0] == pytest.approx(2.0, abs=1e-9)
        assert routing_times[2] - retries[1][0] == pytest.approx(4.0, abs=1e-9)

        assert final.status is OrderStatus.FAILED
        assert final.attempts == 3
        assert stored is not None
        assert stored.error
        assert stored.error == history[-1][1].message["error"]
        assert history[-1][1].message["status"] == "FAILED"
        assert "no attempts left" in stored.logs[-1].message

    on_virtual_time(sqlite_url, settings, scenario)


def test_a_backlog_of_250_respects_100_starts_per_minute_and_10_in_flight_fifo(sqlite_url: str) -> None:
    settings = engine_settings(time_scale=1, concurrency=10, rate_limit=100, failure_rate=0.1, seed=5)
    requests = random_requests(default_catalog(), 250, seed=11)

    async def scenario(engine: Engine, timeline: Timeline) -> None:
        submitted = await engine.submit_many(requests)
        await engine.wait_idle()
        starts = timeline.starts()
        times = [moment for moment, _ in starts]

        # Any 60 s window holds at most 100 starts, and the limit is used to the full.
        most = max(sum(1 for other in times[i:] if other < start + 60.0) for i, start in enumerate(times))
        assert most == 100
        assert times[100] - times[0] == pytest.approx(60.0, abs=1e-6)

        # First attempts start in submission order; retries are attempts and count too.
        first_starts: list[str] = []
        for _, order_id in starts:
            if order_id not in first_starts:
                first_starts.append(order_id)
        assert first_starts == [order.id for order in submitted]
        assert len(starts) > 250

        assert max(in_flight for _, _, in_flight in timeline.events) <= 10
        counts = await engine.store.counts_by_status()
        assert counts.get(OrderStatus.CONFIRMED, 0) + counts.get(OrderStatus.FAILED, 0) == 250

    on_virtual_time(sqlite_url, settings, scenario)


def test_concurrency_limit_is_reached_and_never_exceeded(sqlite_url: str) -> None:
    settings = engine_settings(time_scale=1, concurrency=3, rate_limit=0, failure_rate=0, seed=2)
    requests = random_requests(default_catalog(), 30, seed=3)

    async def scenario(engine: Engine, timeline: Timeline) -> None:
        await engine.submit_many(requests)
        await engine.wait_idle()
        in_flight = [count for _, _, count in timeline.events]
        assert max(in_flight) == 3
        # Attempts overlap in time: intervals from ROUTING to CONFIRMED, counted at each start.
        spans = {}
        for moment, update, _ in timeline.events:
            if update.status == "ROUTING":
                spans[update.order_id] = [moment, None]
            elif update.status == "CONFIRMED":
                spans[update.order_id][1] = moment
        overlaps = [sum(1 for s, e in spans.values() if s <= start < e) for start, _ in spans.values()]
        assert max(overlaps) == 3

    on_virtual_time(sqlite_url, settings, scenario)


def test_an_order_takes_three_to_four_seconds_at_real_time_scale(sqlite_url: str) -> None:
    settings = engine_settings(time_scale=1, failure_rate=0, seed=4)

    async def scenario(engine: Engine, timeline: Timeline) -> None:
        order = await engine.submit("SOL-USDC", "10.5", "BUY")
        await engine.wait_terminal(order.id)
        history = timeline.of(order.id)
        assert [update.message["status"] for _, update in history] == [
            "PENDING",
            "ROUTING",
            "BUILDING",
            "SUBMITTED",
            "CONFIRMED",
        ]
        moments = [moment for moment, _ in history]
        assert all(later >= earlier for earlier, later in pairwise(moments))
        assert moments[2] - moments[1] == pytest.approx(0.2)  # both quotes fetched at once, 200 ms
        assert 2.7 <= moments[-1] - moments[0] <= 3.7

    on_virtual_time(sqlite_url, settings, scenario)
