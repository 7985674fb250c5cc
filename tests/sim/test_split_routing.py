"""Routing like an aggregator: a large order splits across both pools when that beats the better one alone."""

from __future__ import annotations

import math
import random
from decimal import Decimal

import pytest

from engine.model.clock import Clock
from engine.model.domain import Direction, OrderStatus
from engine.model.log_kinds import LogKind
from engine.model.validation import validate_order
from engine.runtime.engine import engine_settings
from engine.trading.demo import random_requests
from engine.trading.pairs import PairSpec, default_catalog
from engine.trading.quotes import Quote
from engine.trading.router import FEES, SPLIT_MIN_BPS, MockDexRouter, RouterSettings
from tests.conftest import postgres_schema, running

MOMENTS = 1500


def _better_by_bps(direction: Direction, price: Decimal, than: Decimal) -> Decimal:
    return ((than - price) if direction is Direction.BUY else (price - than)) / than * 10000


def _marginal(spec: PairSpec, leg: Quote) -> float:
    """The price of the leg's last unit: P(1±f)·L²/(L∓Δ)², the same on both venues at the best split."""
    depth, size = spec.liquidity[leg.venue], float(leg.amount)
    if leg.direction is Direction.BUY:
        return float(leg.pool_price) * (1 + float(FEES[leg.venue])) * depth**2 / (depth - size) ** 2
    return float(leg.pool_price) * (1 - float(FEES[leg.venue])) * depth**2 / (depth + size) ** 2


@pytest.mark.parametrize("pair", ["SOL-USDC", "JUP-USDC", "RAY-USDC", "BTC-USDC", "JUP-SOL"])
def test_a_split_beats_the_better_single_venue_and_is_never_chosen_when_it_does_not(pair: str) -> None:
    catalog = default_catalog()
    spec = catalog[pair]
    router = MockDexRouter(catalog, RouterSettings(seed=8), Clock(0))
    rng = random.Random(pair)
    top = min(spec.max_amount, Decimal(repr(min(spec.liquidity.values()))) * Decimal("0.999"))
    splits = 0
    for _ in range(MOMENTS):
        at = rng.uniform(0, 10 * 86400)
        size = Decimal(repr(math.exp(rng.uniform(math.log(float(spec.min_amount)), math.log(float(top))))))
        size = min(max(size.quantize(Decimal(1).scaleb(-spec.decimals)), spec.min_amount), top)
        direction = rng.choice(list(Direction))
        decision = router.quote_at(pair, size, direction, at)
        best_single = min(
            (quote.effective_price for quote in decision.quotes),
            key=lambda price: price if direction is Direction.BUY else -price,
        )
        chosen = decision.chosen
        if chosen.legs:
            splits += 1
            assert sum(leg.amount for leg in chosen.legs) == size
            assert _better_by_bps(direction, chosen.effective_price, best_single) >= SPLIT_MIN_BPS
            first, second = (_marginal(spec, leg) for leg in chosen.legs)
            assert abs(first / second - 1) < 0.002, "the legs' sizes equalise the pools' marginal prices"
            continue
        assert chosen.effective_price == best_single
        # No split on a grid of shares beats the single venue by the split's threshold.
        for share in range(1, 20):
            part = (size * share / 20).quantize(Decimal(1).scaleb(-spec.decimals))
            if part < spec.min_amount or size - part < spec.min_amount:
                continue
            legs = [
                router.quote_for(spec, part, direction, decision.quotes[0].venue, at),
                router.quote_for(spec, size - part, direction, decision.quotes[1].venue, at),
            ]
            average = sum((leg.amount * leg.effective_price for leg in legs), Decimal(0)) / size
            assert _better_by_bps(direction, average, best_single) < SPLIT_MIN_BPS + Decimal("0.05")
    assert splits > MOMENTS * 0.05, f"large {pair} orders split ({splits} of {MOMENTS})"


async def test_a_split_order_confirms_with_each_leg_logged_and_the_account_settles_exactly(db_url: str) -> None:
    settings = engine_settings(time_scale=0, rate_limit=0, seed=3, failure_rate=0)
    async with running(db_url, settings) as engine:
        await engine.reset_account("USDC=100000000,SOL=10")
        order = await engine.submit("SOL-USDC", "40000", "BUY")
        final = await engine.wait_terminal(order.id)
        assert final.status is OrderStatus.CONFIRMED, final.error
        stored = await engine.order(order.id)
        view = await engine.account()
    assert stored is not None
    assert view is not None
    [chosen] = [entry for entry in stored.logs if entry.kind == LogKind.ROUTE_CHOSEN]
    assert chosen.message.startswith("split raydium ")
    assert chosen.data is not None
    assert len(chosen.data["split"]["legs"]) == 2
    [confirmed] = [entry for entry in stored.logs if entry.kind == LogKind.CONFIRMED]
    assert confirmed.data is not None
    legs = stored.route.legs if stored.route else ()
    assert [leg.to_json() for leg in legs] == confirmed.data["legs"]
    assert {str(leg.venue) for leg in legs} == {"raydium", "meteora"}
    assert sum(leg.amount for leg in legs) == Decimal(40000)
    # One order, one price: the whole fill's average, to the pair's places.
    total = sum((leg.amount * (leg.executed_price or 0) for leg in legs), Decimal(0))
    assert final.execution_price == (total / 40000).quantize(Decimal("0.0001"))
    balances = {balance.token: balance for balance in view.balances}
    assert balances["USDC"].total == Decimal(100000000) - Decimal(40000) * final.execution_price
    assert balances["USDC"].reserved == 0
    assert balances["SOL"].total == Decimal(40010)
    [sol] = [position for position in view.positions if position.pair == "SOL-USDC"]
    fee = sum(
        (leg.amount * (leg.executed_price or 0) * FEES[leg.venue] / (1 + FEES[leg.venue]) for leg in legs), Decimal(0)
    )
    assert sol.fees == fee.quantize(Decimal("1e-12"))
    assert str(final.dex) in ("raydium", "meteora")  # the update messages keep the contract's shape


async def test_a_seed_replays_the_same_routes_splits_and_outcomes_on_both_databases(sqlite_url: str) -> None:
    requests = random_requests(default_catalog(), 40, seed=6)
    requests += [validate_order("SOL-USDC", "30000", side, default_catalog()) for side in ("BUY", "SELL")]
    outcomes = []
    async with postgres_schema() as postgres_url:
        for url in (sqlite_url, postgres_url):
            async with running(url, engine_settings(time_scale=0, rate_limit=0, seed=77, failure_rate=0.2)) as engine:
                await engine.submit_many(requests)
                await engine.wait_idle()
                listed = await engine.store.list_orders(newest_first=False)
            outcomes.append(
                [(o.status, o.dex, o.execution_price, o.tx_hash, o.attempts, o.error, o.route) for o in listed]
            )
    assert outcomes[0] == outcomes[1]
    assert any(route is not None and route.legs for *_rest, route in outcomes[0]), "the large orders split"
