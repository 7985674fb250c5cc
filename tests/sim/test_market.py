"""The simulated market: a pure function of seed, pair and time; venue spreads inside the task's ranges."""

from __future__ import annotations

import itertools
import math
import random
from decimal import Decimal

import pytest

from engine.model.clock import Clock
from engine.model.domain import Direction, Venue
from engine.trading.market import STEP_S, VENUE_SPREAD, Market
from engine.trading.pairs import default_catalog
from engine.trading.router import MockDexRouter, RouterSettings


def test_the_same_seed_gives_the_same_market_whatever_order_it_is_read_in() -> None:
    catalog = default_catalog()
    moments = [random.Random(1).uniform(0, 200_000) for _ in range(300)]
    first, second = Market(42, Clock(1)), Market(42, Clock(1))
    forward = [(spec.pair, first.pool_price(spec, venue, at)) for at in moments for spec in catalog for venue in Venue]
    backward = [
        (spec.pair, second.pool_price(spec, venue, at))
        for at in reversed(moments)
        for spec in reversed(list(catalog))
        for venue in reversed(list(Venue))
    ]
    assert forward == list(reversed(backward))
    other = Market(43, Clock(1))
    sol = catalog["SOL-USDC"]
    assert first.reference(sol, 1000.0) != other.reference(sol, 1000.0)


def test_venue_spreads_stay_inside_the_task_ranges_and_move_slowly() -> None:
    market = Market(5, Clock(1))
    for spec in default_catalog():
        for venue in Venue:
            low, high = VENUE_SPREAD[venue]
            spreads = [market.spread(spec, venue, second * 7.0) for second in range(20_000)]
            assert low <= min(spreads)
            assert max(spreads) <= high
            # Slowly: seven seconds apart, a spread moves by a small fraction of its range.
            steps = [abs(b - a) for a, b in itertools.pairwise(spreads)]
            assert max(steps) < (high - low) * 0.03
            # ...but over hours it does wander across much of the range.
            assert max(spreads) - min(spreads) > (high - low) * 0.3


def test_the_reference_walks_a_little_per_second_and_more_per_hour() -> None:
    market = Market(9, Clock(1))
    sol = default_catalog()["SOL-USDC"]
    second_moves = [abs(market.reference(sol, t + 1) / market.reference(sol, t) - 1) for t in range(0, 36_000, 36)]
    hour_moves = [abs(market.reference(sol, t + 3600) / market.reference(sol, t) - 1) for t in range(0, 360_000, 360)]
    mean_second = sum(second_moves) / len(second_moves)
    mean_hour = sum(hour_moves) / len(hour_moves)
    assert mean_second < 0.0005  # consecutive moments are a few bps apart, not 1–3 %
    assert mean_hour > mean_second * 10


def test_at_time_scale_0_the_market_moves_one_step_per_order() -> None:
    clock = Clock(0)
    router = MockDexRouter(default_catalog(), RouterSettings(seed=3), clock)
    assert router.market.now(10) == 10 * STEP_S
    first = router.indicative("SOL-USDC", Decimal("10"), Direction.BUY, 10)
    again = router.indicative("SOL-USDC", Decimal("10"), Direction.BUY, 10)
    later = router.indicative("SOL-USDC", Decimal("10"), Direction.BUY, 11)
    assert first.chosen.effective_price == again.chosen.effective_price
    assert first.chosen.effective_price != later.chosen.effective_price


def test_one_price_per_token_so_every_triangle_of_references_and_pool_centres_closes() -> None:
    market = Market(21, Clock(1))
    catalog = default_catalog()
    sol_usdc, sol_usdt, usdc_usdt = catalog["SOL-USDC"], catalog["SOL-USDT"], catalog["USDC-USDT"]
    jup_usdc, jup_sol = catalog["JUP-USDC"], catalog["JUP-SOL"]
    rng = random.Random(21)
    for at in (rng.uniform(0, 30 * 86400) for _ in range(2000)):
        ref = market.reference
        assert ref(sol_usdt, at) == pytest.approx(ref(sol_usdc, at) * ref(usdc_usdt, at), rel=1e-12)
        assert ref(jup_sol, at) == pytest.approx(ref(jup_usdc, at) / ref(sol_usdc, at), rel=1e-12)
        # The venues' mean (the pair's centre) closes the triangle too: only the venue gap leans.
        centre = {
            spec.pair: math.sqrt(
                market.pool_price(spec, Venue.RAYDIUM, at) * market.pool_price(spec, Venue.METEORA, at)
            )
            for spec in (sol_usdc, sol_usdt, usdc_usdt)
        }
        assert centre["SOL-USDT"] == pytest.approx(centre["SOL-USDC"] * centre["USDC-USDT"], rel=1e-12)
