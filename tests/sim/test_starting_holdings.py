"""A starting balance is one holding in every pair it is the BASE of: selling it anywhere closes a long.

Before, the 10 SOL an account started with were a long on SOL-USDC only, so selling 4 of them on
SOL-USDT showed a 4 SOL short there (and a 10 SOL long still on SOL-USDC): 14 SOL of positions
for 6 SOL held.
"""

from __future__ import annotations

import json
from decimal import Decimal

from engine.model.domain import OrderStatus
from engine.runtime.engine import engine_settings
from tests.conftest import running

SETTLED = engine_settings(time_scale=0, rate_limit=0, seed=4, failure_rate=0)


async def test_starting_sol_sold_on_sol_usdt_and_sol_ray_closes_longs_and_is_never_counted_twice(db_url: str) -> None:
    async with running(db_url, SETTLED) as engine:
        await engine.reset_account("USDC=1000,SOL=10")
        prices = {}
        for pair, amount in (("SOL-USDT", "4"), ("SOL-RAY", "2")):
            final = await engine.wait_terminal((await engine.submit(pair, amount, "SELL")).id)
            assert final.status is OrderStatus.CONFIRMED, final.error
            assert final.execution_price is not None
            prices[pair] = final.execution_price
        view = await engine.account()
        marks = json.loads((await engine.store.read_account_meta())["start_marks"])
    assert view is not None
    positions = {position.pair: position for position in view.positions}
    sol_total = next(balance.total for balance in view.balances if balance.token == "SOL")
    assert sol_total == 4
    assert positions["SOL-USDC"].size == 4
    assert positions["SOL-USDC"].starting == 4
    for pair, amount in (("SOL-USDT", 4), ("SOL-RAY", 2)):
        position = positions[pair]
        assert position.size == 0, f"{pair}: no short"
        assert position.starting == amount
        cost = Decimal(marks[pair][1])  # the pair's own mark at reset
        assert position.realized == (prices[pair] - cost) * amount
    assert sum(position.size for position in view.positions if position.pair.startswith("SOL-")) == sol_total


async def test_a_sale_beyond_the_starting_holding_still_draws_only_what_is_left(sqlite_url: str) -> None:
    async with running(sqlite_url, SETTLED) as engine:
        await engine.reset_account("USDC=100000,USDT=100000,SOL=3")
        await engine.wait_terminal((await engine.submit("SOL-USDC", "2", "SELL")).id)  # 1 starting SOL left
        await engine.wait_terminal((await engine.submit("SOL-USDT", "5", "BUY")).id)
        await engine.wait_terminal((await engine.submit("SOL-USDT", "6", "SELL")).id)
        view = await engine.account()
    assert view is not None
    positions = {position.pair: position for position in view.positions}
    assert positions["SOL-USDC"].size == 0
    assert positions["SOL-USDT"].size == 0  # 5 bought + 1 drawn from the start, all sold
    assert positions["SOL-USDT"].starting == 1


async def test_starting_usdt_sold_on_a_routable_pair_closes_a_holding_at_its_mark_at_reset(db_url: str) -> None:
    """USDT is the BASE of no listed pair, so it had no home: selling it on USDT-BONK opened a short."""
    async with running(db_url, SETTLED) as engine:
        await engine.reset_account("USDT=1000,USDC=500")
        final = await engine.wait_terminal((await engine.submit("USDT-BONK", "400", "SELL")).id)
        assert final.status is OrderStatus.CONFIRMED, final.error
        assert final.execution_price is not None
        view = await engine.account()
        marks = json.loads((await engine.store.read_account_meta())["start_marks"])
    assert view is not None
    [position] = [position for position in view.positions if position.pair == "USDT-BONK"]
    assert position.size == 0, "no short: the 400 USDT sold were held from the start"
    assert position.starting == 400
    cost = Decimal(marks["USDT-BONK"][1])
    assert position.realized == (final.execution_price - cost) * 400
    assert all(position.size >= 0 for position in view.positions)
    balances = {balance.token: balance.total for balance in view.balances}
    assert balances["USDT"] == 600
    assert balances["USDC"] == 500  # the intermediate nets to zero
