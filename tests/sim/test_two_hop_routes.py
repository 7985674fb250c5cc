"""Two-hop routes: two listed tokens no listed pair trades go through one intermediate, exactly.

What a trader relies on: the intermediate token nets to zero to the last place, the route's one
price is the whole fill's, each hop takes its better venue, a round trip through the hops loses
money, the paper account moves only the order's two tokens, and a seed replays the same routes
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
import random
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from engine.model.clock import Clock
from engine.model.domain import Direction, OrderStatus
from engine.model.log_kinds import LogKind
from engine.model.validation import InvalidOrder, validate_order
from engine.runtime.engine import engine_settings
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from engine.trading.router import FEES, MockDexRouter, RouterSettings
from tests.conftest import postgres_schema, running

MOMENTS = 400


@pytest.mark.parametrize("pair", ["SOL-RAY", "RAY-SOL", "USDT-BONK", "BTC-ETH", "JUP-USDT", "BONK-PYTH"])
def test_the_intermediate_nets_to_zero_each_hop_takes_its_better_venue_and_no_round_trip_pays(pair: str) -> None:
    catalog = default_catalog()
    spec = catalog[pair]
    assert not spec.listed
    router = MockDexRouter(catalog, RouterSettings(seed=5), Clock(0))
    rng = random.Random(pair)
    places = Decimal(1).scaleb(-spec.price_decimals)
    for _ in range(MOMENTS):
        at = rng.uniform(0, 10 * 86400)
        low, high = float(spec.min_amount), float(spec.max_amount)
        size = Decimal(repr(low * (high / low) ** rng.random())).quantize(Decimal(1).scaleb(-spec.decimals))
        size = min(max(size, spec.min_amount), spec.max_amount)
        sold = router.quote_at(pair, size, Direction.SELL, at)
        bought = router.quote_at(pair, size, Direction.BUY, at)
        for decision in (sold, bought):
            first, second = decision.chosen.hops
            assert first.amount_out == second.amount_in  # what one hop gives, the other takes
            carrier = next(via.token for via in spec.via if via.min_amount <= size <= via.max_amount)
            assert first.token_out == second.token_in == carrier  # the first intermediate that carries it
            if decision.chosen.direction is Direction.SELL:
                assert (first.token_in, first.amount_in, second.token_out) == (spec.base, size, spec.quote)
                assert decision.chosen.effective_price == (second.amount_out / size).quantize(places, ROUND_HALF_EVEN)
                assert all(decision.chosen.effective_price >= quote.effective_price for quote in decision.quotes)
            else:
                assert (first.token_in, second.token_out, second.amount_out) == (spec.quote, spec.base, size)
                assert decision.chosen.effective_price == (first.amount_in / size).quantize(places, ROUND_HALF_EVEN)
                assert all(decision.chosen.effective_price <= quote.effective_price for quote in decision.quotes)
            assert decision.chosen.venue == first.venue
        # Selling and buying back the same amount at the same moment loses at least both hops' fees.
        assert bought.chosen.effective_price * (1 - Decimal("0.004")) > sold.chosen.effective_price


def test_routable_pairs_are_named_both_ways_and_bounded_by_their_hops() -> None:
    catalog = default_catalog()
    names = catalog.routable_names()
    assert "SOL-RAY" in names
    assert "RAY-SOL" in names
    assert not set(names) & set(catalog.names)
    for name in names:
        spec = catalog[name]
        base, quote = name.split("-")
        assert catalog.hop_pair(base, quote) is None
        covered = sorted((via.min_amount, via.max_amount) for via in spec.via)
        assert covered[0][0] == spec.min_amount
        assert max(high for _, high in covered) == spec.max_amount
        for (_, high), (low, _) in itertools.pairwise(covered):
            assert low <= high, f"{name}: every amount between its limits has an intermediate"
    assert catalog.get("USDC-SOL") is None  # the reverse of a listed pair is not another pair


@pytest.mark.parametrize(
    ("pair", "extra", "field", "words"),
    [
        ("USDC-SOL", {}, "pair", "trade it as SOL-USDC"),
        ("SOL-DOGE", {}, "pair", "e.g. SOL-RAY"),
        ("SOL-RAY", {"order_type": "limit", "limit_price": "60"}, "type", "need a listed pair"),
    ],
)
def test_what_cannot_be_routed_is_refused_naming_the_field(
    pair: str, extra: dict[str, str], field: str, words: str
) -> None:
    with pytest.raises(InvalidOrder) as refused:
        validate_order(pair, "1", "BUY", default_catalog(), **extra)  # type: ignore[arg-type]
    errors = {error.field: error.rule for error in refused.value.errors}
    assert words in errors[field]


@pytest.mark.parametrize("direction", ["BUY", "SELL"])
async def test_a_two_hop_order_confirms_with_each_hop_stored_and_the_account_settles_each_token(
    db_url: str, direction: str
) -> None:
    settings = engine_settings(time_scale=0, rate_limit=0, seed=3, failure_rate=0)
    async with running(db_url, settings) as engine:
        await engine.reset_account("USDC=1000,SOL=10,RAY=10000")
        order = await engine.submit("SOL-RAY", "3", direction)
        final = await engine.wait_terminal(order.id)
        assert final.status is OrderStatus.CONFIRMED, final.error
        stored = await engine.order(order.id)
        view = await engine.account()
    assert stored is not None
    assert view is not None
    assert stored.route is not None
    hops = stored.route.hops
    [confirmed] = [entry for entry in stored.logs if entry.kind == LogKind.CONFIRMED]
    assert confirmed.data is not None
    assert [hop.to_json() for hop in hops] == confirmed.data["hops"]
    assert all(hop.executed for hop in hops)
    assert hops[0].amount_out == hops[1].amount_in
    assert final.dex == hops[0].venue
    price = final.execution_price
    assert price is not None
    moved = hops[1].amount_out if direction == "SELL" else hops[0].amount_in
    assert price == (moved / 3).quantize(Decimal("0.00001"), ROUND_HALF_EVEN)
    balances = {balance.token: balance for balance in view.balances}
    sign = 1 if direction == "BUY" else -1
    assert balances["SOL"].total == 10 + sign * 3
    assert balances["RAY"].total == 10000 - sign * 3 * price
    assert balances["USDC"].total == 1000  # the intermediate nets to zero
    assert all(balance.reserved == 0 for balance in view.balances)
    # Fees: both hops', in RAY. SOL-USDC then RAY-USDC (SELL) or the reverse (BUY): each hop sells
    # its pair's BASE (keeps 1 - f) or buys it (keeps 1 / (1 + f)).
    kept = Decimal(1)
    for hop in hops:
        rate = FEES[hop.venue]
        kept *= 1 - rate if hop.token_in == hop.pair.split("-")[0] else 1 / (1 + rate)
    moved = 3 * price
    fee = moved * (1 / kept - 1) if direction == "SELL" else moved * (1 - kept)
    [position] = [position for position in view.positions if position.pair == "SOL-RAY"]
    assert position.fees == fee.quantize(Decimal("1e-12"))


async def test_a_seed_replays_the_same_two_hop_routes_and_outcomes_on_both_databases(sqlite_url: str) -> None:
    catalog = default_catalog()
    requests = random_requests(catalog, 12, seed=6)
    for pair, amount, side in [("SOL-RAY", "2", "SELL"), ("RAY-SOL", "150", "SELL"), ("USDT-BONK", "50", "BUY")]:
        requests += [validate_order(pair, amount, side, catalog) for _ in range(3)]
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
    hopped = [route for *_rest, route in outcomes[0] if route is not None and route.hops]
    assert len(hopped) >= 6, "the routable orders went through two hops"


def test_every_routable_pair_routes_its_smallest_and_largest_amount_both_ways() -> None:
    catalog = default_catalog()
    router = MockDexRouter(catalog, RouterSettings(seed=2), Clock(0))
    rng = random.Random(2)
    for name in catalog.routable_names():
        spec = catalog[name]
        for amount in (spec.min_amount, spec.max_amount):
            for side in ("BUY", "SELL"):
                request = validate_order(name, amount, side, catalog)
                for at in (rng.uniform(0, 30 * 86400) for _ in range(5)):
                    decision = router.quote_at(name, request.amount, request.direction, at)
                    assert decision.chosen.effective_price > 0
                    assert len(decision.chosen.hops) == 2
