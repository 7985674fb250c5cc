"""What the desk says about a rate-limited queue is exact: the next start, the last start, a Burst's wait."""

from __future__ import annotations

import pytest

from engine.runtime.engine import Engine, engine_settings
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.engine.virtual import Timeline, on_virtual_time


def test_a_full_window_says_when_the_next_and_the_last_queued_order_start(sqlite_url: str) -> None:
    # No failures and a wide slippage bound: no retries, so the queue is exactly what was submitted.
    settings = engine_settings(
        time_scale=1, concurrency=1000, rate_limit=100, failure_rate=0.0, slippage_tolerance="0.5", seed=3
    )
    requests = random_requests(default_catalog(), 250, seed=5)

    async def scenario(engine: Engine, timeline: Timeline) -> None:
        start = engine.clock.monotonic()
        idle = engine.stats()
        assert idle.next_start_in_s is None
        assert idle.drain_in_s is None
        await engine.submit_many(requests)
        await engine.clock.sleep_until(start + 10)

        stats = engine.stats()
        assert (stats.window_used, stats.waiting) == (100, 150)
        # The first 100 started at once; the window frees them at +60 s; 150 more need two windows.
        assert stats.next_start_in_s == pytest.approx(50.0, abs=1e-6)
        assert stats.drain_in_s == pytest.approx(110.0, abs=1e-6)
        # A Burst of 50 more, asked now, would have its last order start at +120 s.
        assert engine.start_delay(50) == pytest.approx(110.0, abs=1e-6)
        assert engine.start_delay(51) == pytest.approx(170.0, abs=1e-6)

        await engine.wait_idle()
        last_start = max(moment for moment, _ in timeline.starts())
        assert last_start - start == pytest.approx(120.0, abs=1e-3), "the estimate was the truth"

    on_virtual_time(sqlite_url, settings, scenario)


def test_without_a_rate_limit_nothing_is_estimated_before_an_attempt_has_held_a_slot(sqlite_url: str) -> None:
    settings = engine_settings(time_scale=0, rate_limit=0, seed=3)

    async def scenario(engine: Engine, _timeline: Timeline) -> None:
        assert engine.start_delay(10_000) == 0.0
        await engine.submit_many(random_requests(default_catalog(), 20, seed=1))
        assert engine.stats().drain_in_s is None

    on_virtual_time(sqlite_url, settings, scenario)


def test_under_the_rate_limit_the_eta_follows_the_slots(sqlite_url: str) -> None:
    """With the window never full the slots are the bound: the queue still says when its last order starts."""
    settings = engine_settings(
        time_scale=1, concurrency=2, rate_limit=0, failure_rate=0.0, slippage_tolerance="0.5", seed=3
    )
    requests = random_requests(default_catalog(), 12, seed=5)

    async def scenario(engine: Engine, timeline: Timeline) -> None:
        start = engine.clock.monotonic()
        await engine.submit_many(requests)
        await engine.clock.sleep_until(start + 7)  # the first two attempts have held their slots and ended
        stats = engine.stats()
        assert stats.next_start_in_s is None, "nothing waits for the rate limit"
        assert stats.drain_in_s is not None, "the ETA does not disappear under the limit"
        asked_at = engine.clock.monotonic()

        await engine.wait_idle()
        last_start = max(moment for moment, _ in timeline.starts())
        assert stats.drain_in_s == pytest.approx(last_start - asked_at, rel=0.25)

    on_virtual_time(sqlite_url, settings, scenario)
