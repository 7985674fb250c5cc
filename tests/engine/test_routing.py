"""The mock router: better venue net of fees, price impact, slippage protection, determinism."""

from __future__ import annotations

from decimal import Decimal

from engine.model.clock import Clock
from engine.model.domain import Direction, OrderStatus
from engine.runtime.engine import engine_settings
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from engine.trading.router import MockDexRouter, RouterSettings
from tests.conftest import running


def _router(**settings: object) -> MockDexRouter:
    return MockDexRouter(default_catalog(), RouterSettings(**settings), Clock(0))  # type: ignore[arg-type]


def test_the_better_net_price_wins_for_each_direction() -> None:
    router = _router(seed=3)
    for step in range(200):
        for direction in Direction:
            decision = router.indicative("SOL-USDC", Decimal("25"), direction, step)
            prices = [quote.effective_price for quote in decision.quotes]
            best = min(prices) if direction is Direction.BUY else max(prices)
            assert not decision.chosen.legs, "25 SOL is too small for a split to be worth a second leg"
            assert decision.chosen.effective_price == best
            worse = decision.other.effective_price
            assert decision.margin_bps == (abs(worse - best) / worse * 10000).quantize(Decimal("0.1"))


def test_fees_are_in_the_effective_price() -> None:
    router = _router(seed=3)
    buy = router.indicative("SOL-USDC", Decimal("1"), Direction.BUY, 0)
    for quote in buy.quotes:
        assert quote.effective_price > quote.pool_price * (1 + quote.fee_rate) * Decimal("0.9999")
    fees = {str(quote.venue): quote.fee_rate for quote in buy.quotes}
    assert fees == {"raydium": Decimal("0.003"), "meteora": Decimal("0.002")}


def test_price_impact_grows_with_size_relative_to_pool_depth() -> None:
    router = _router(seed=9)
    spec = default_catalog()["SOL-USDC"]
    sizes = [Decimal("1"), Decimal("100"), Decimal("5000"), Decimal("50000")]
    for direction in Direction:
        for venue in spec.liquidity:
            quotes = [router.quote_for(spec, size, direction, venue, 0.0) for size in sizes]
            impacts = [quote.price_impact for quote in quotes]
            assert impacts == sorted(impacts)
            assert impacts[-1] > impacts[0] * 1000
            effective = [quote.effective_price for quote in quotes]
            assert effective == (sorted(effective) if direction is Direction.BUY else sorted(effective, reverse=True))
    # The shallower pool moves more for the same size.
    shallow = min(spec.liquidity, key=lambda venue: spec.liquidity[venue])
    deep = max(spec.liquidity, key=lambda venue: spec.liquidity[venue])
    size = Decimal("10000")
    assert (
        router.quote_for(spec, size, Direction.BUY, shallow, 0.0).price_impact
        > router.quote_for(spec, size, Direction.BUY, deep, 0.0).price_impact
    )


async def test_routing_logs_both_quotes_and_the_margin(sqlite_url: str) -> None:
    async with running(sqlite_url) as engine:
        order = await engine.submit("JUP-USDC", "1500", "sell")
        await engine.wait_terminal(order.id)
        stored = await engine.store.get(order.id)
    assert stored is not None
    routing = [entry for entry in stored.logs if entry.status is OrderStatus.ROUTING and entry.data]
    venues = {entry.data["venue"] for entry in routing if entry.data and "venue" in entry.data}
    assert venues == {"raydium", "meteora"}
    decision = next(entry for entry in routing if entry.data and "marginBps" in entry.data)
    assert decision.data is not None
    assert decision.data["chosen"] == str(stored.dex)
    assert "bps" in decision.message
    assert "higher" in decision.message  # a SELL wants the highest price


async def test_slippage_protection_fails_attempts_that_execute_worse_than_tolerance(sqlite_url: str) -> None:
    settings = engine_settings(time_scale=0, rate_limit=0, seed=21, failure_rate=0, slippage_tolerance="0.0005")
    async with running(sqlite_url, settings) as engine:
        orders = await engine.submit_many(random_requests(default_catalog(), 40, seed=8, pairs=["BONK-USDC"]))
        await engine.wait_idle()
        stored = [await engine.store.get(order.id) for order in orders]
    slipped = [entry for order in stored if order for entry in order.logs if "slippage" in entry.message]
    assert slipped, "a 0.05% tolerance on a volatile pair must trip slippage protection"
    for entry in slipped:
        assert entry.status in (OrderStatus.PENDING, OrderStatus.FAILED)
        assert "exceeds tolerance 0.05" in entry.message  # 0.05% or 0.050%: as many places as show the difference
    failed = [order for order in stored if order and order.status is OrderStatus.FAILED]
    for order in failed:
        assert order.error  # the reason stays for the post-mortem
        assert order.attempts == 3


async def test_the_same_seed_gives_the_same_routes_prices_and_outcomes(tmp_path: object) -> None:
    requests = random_requests(default_catalog(), 60, seed=5)
    outcomes = []
    for run in ("first", "second"):
        url = f"sqlite+aiosqlite:///{tmp_path}/{run}.db"
        async with running(url, engine_settings(time_scale=0, rate_limit=0, seed=99, failure_rate=0.2)) as engine:
            orders = await engine.submit_many(requests)
            await engine.wait_idle()
            listed = await engine.store.list_orders(newest_first=False)
        assert [order.seq for order in listed] == sorted(order.seq for order in orders)
        outcomes.append([(o.status, o.dex, o.execution_price, o.tx_hash, o.attempts, o.error) for o in listed])
    assert outcomes[0] == outcomes[1]
    assert len({outcome[3] for outcome in outcomes[0] if outcome[3]}) == sum(1 for o in outcomes[0] if o[3])


def test_another_seed_gives_other_prices() -> None:
    first = _router(seed=1).indicative("SOL-USDC", Decimal("5"), Direction.BUY, 10)
    second = _router(seed=2).indicative("SOL-USDC", Decimal("5"), Direction.BUY, 10)
    assert first.chosen.effective_price != second.chosen.effective_price
