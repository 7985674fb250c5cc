"""Two hops over a listed pair only when they really give more, as Jupiter routes.

tests/data/pairs_shallow_direct.json is a market where SOL-USDT's own pools are shallow (12,000 and
8,000 SOL) and the hops through USDC are deep: a large SOL-USDT order gets more through SOL-USDC and
USDC-USDT, and says so with both routes' totals. Ordinary sizes stay on the direct pair, there and in
the shipped market (whose direct pools are the deepest of every listed pair's routes).
"""

from __future__ import annotations

import math
import random
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest

from engine.model.clock import Clock
from engine.model.domain import Direction, OrderStatus
from engine.model.log_kinds import LogKind
from engine.runtime.engine import Engine, engine_settings
from engine.storage import OrderStore
from engine.trading.hops import TWO_HOP_MIN_BPS
from engine.trading.pairs import PairCatalog, default_catalog
from engine.trading.quotes import Quote
from engine.trading.router import MockDexRouter, RouterSettings

SHALLOW = PairCatalog.from_file(Path(__file__).parents[1] / "data" / "pairs_shallow_direct.json")
MOMENTS = 300


def _moved(quote: Quote) -> Decimal:
    """What a route pays (BUY) or gets (SELL) in QUOTE: its hops' own amounts, or for one venue or a split
    what the account settles, amount × the (average) price."""
    if quote.hops:
        return quote.hops[0].amount_in if quote.direction is Direction.BUY else quote.hops[-1].amount_out
    return quote.amount * quote.effective_price


@pytest.mark.parametrize("direction", list(Direction))
def test_a_large_order_against_a_shallow_direct_pool_goes_through_two_hops_and_says_why(direction: Direction) -> None:
    router = MockDexRouter(SHALLOW, RouterSettings(seed=4), Clock(0))
    rng = random.Random(f"two-hops:{direction}")
    for _ in range(MOMENTS):
        at = rng.uniform(0, 30 * 86400)
        size = Decimal(rng.randrange(500, 5000))
        decision = router.quote_at("SOL-USDT", size, direction, at)
        chosen, direct = decision.chosen, decision.direct
        assert direct is not None, f"{size} SOL at {at:.1f} s stayed on the direct pair"
        assert [(hop.token_in, hop.token_out) for hop in chosen.hops] == (
            [("SOL", "USDC"), ("USDC", "USDT")] if direction is Direction.SELL else [("USDT", "USDC"), ("USDC", "SOL")]
        )
        assert chosen.hops[0].amount_out == chosen.hops[1].amount_in
        through, straight = _moved(chosen), _moved(direct)
        better = straight - through if direction is Direction.BUY else through - straight
        assert better > 0, "the two hops really give more (SELL) or cost less (BUY)"
        assert better / straight * 10000 >= TWO_HOP_MIN_BPS - Decimal("0.1")
        why = decision.reason()
        assert why.startswith("two hops via USDC beat the direct pair")
        places = chosen.effective_price
        assert f"{through.quantize(places)} USDT through USDC" in why
        assert f"{straight.quantize(places)} USDT direct" in why
        data = decision.to_json()
        assert (data["twoHop"]["total"], data["direct"]["total"]) == (through, straight)


def test_ordinary_sizes_stay_on_the_direct_pair_in_the_shipped_market_and_the_shallow_one() -> None:
    for catalog, pairs in ((default_catalog(), None), (SHALLOW, ["SOL-USDT"])):
        router = MockDexRouter(catalog, RouterSettings(seed=6), Clock(0))
        rng = random.Random(7)
        names = pairs or [spec.pair for spec in catalog if catalog.intermediates(spec.base, spec.quote)]
        for pair in names:
            spec = catalog[pair]
            top = min(spec.max_amount / 1000, Decimal(10) if catalog is SHALLOW else spec.max_amount)
            for _ in range(MOMENTS):
                low, high = math.log(float(spec.min_amount)), math.log(float(top))
                size = Decimal(repr(math.exp(rng.uniform(low, high)))).quantize(Decimal(1).scaleb(-spec.decimals))
                size = max(size, spec.min_amount)
                direction = rng.choice(list(Direction))
                decision = router.quote_at(pair, size, direction, rng.uniform(0, 30 * 86400))
                assert not decision.chosen.hops, f"{pair} {direction} {size}: {decision.reason()}"
                assert decision.direct is None


@pytest.mark.parametrize("direction", ["SELL", "BUY"])
async def test_a_two_hop_order_on_a_listed_pair_confirms_logs_both_routes_and_settles_each_token(
    sqlite_url: str, direction: str
) -> None:
    settings = engine_settings(time_scale=0, rate_limit=0, seed=5, failure_rate=0)
    engine = Engine(OrderStore(sqlite_url), settings, catalog=SHALLOW)
    await engine.start()
    try:
        await engine.reset_account("SOL=5000,USDC=1000,USDT=1000000")
        order = await engine.submit("SOL-USDT", "2000", direction)
        final = await engine.wait_terminal(order.id)
        assert final.status is OrderStatus.CONFIRMED, final.error
        stored = await engine.order(order.id)
        view = await engine.account()
    finally:
        await engine.stop()
    assert stored is not None
    assert view is not None
    assert stored.route is not None
    hops = stored.route.hops
    assert [hop.pair for hop in hops] == (
        ["SOL-USDC", "USDC-USDT"] if direction == "SELL" else ["USDC-USDT", "SOL-USDC"]
    )
    [chosen] = [entry for entry in stored.logs if entry.kind == LogKind.ROUTE_CHOSEN]
    assert chosen.message.startswith("two hops via USDC beat the direct pair")
    assert chosen.data is not None
    assert Decimal(str(chosen.data["direct"]["total"])) > 0
    assert "through USDC" in chosen.message
    assert " direct (" in chosen.message
    balances = {balance.token: balance.total for balance in view.balances}
    price = final.execution_price
    assert price is not None
    moved = hops[1].amount_out if direction == "SELL" else hops[0].amount_in
    sign = 1 if direction == "BUY" else -1
    assert balances["SOL"] == 5000 + sign * 2000
    assert balances["USDT"] == 1000000 - sign * 2000 * price
    assert price == (moved / 2000).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)  # one price: the fill's average
    assert balances["USDC"] == 1000  # the intermediate nets to zero
