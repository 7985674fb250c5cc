"""The account knows its market: marks whatever the reader's flags, PnL in fill order, a cost basis for the start."""

from __future__ import annotations

import asyncio
import json
import random
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from engine.account.market import ORDERS, START_MARKS_KEY, TIME_BASE_KEY, AccountMarket
from engine.model.domain import Direction, Order, OrderStatus
from engine.model.execution_figures import sent_price, slippage_bps
from engine.runtime.engine import Engine, engine_settings
from engine.storage import OrderStore
from engine.storage.account_store import account_meta
from engine.storage.schema import orders
from tests.cluster.test_change_feed import _migrate
from tests.engine.virtual import Timeline, on_virtual_time
from tests.faults.support import DEXDESK, dexdesk_env


async def _dexdesk(env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        DEXDESK, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_account_json_is_identical_whatever_seed_or_time_scale_it_is_read_with(
    sqlite_url: str, tmp_path: Path
) -> None:
    env = dexdesk_env(tmp_path / "home")
    db = ["--db", sqlite_url]
    start = "USDC=1000000000000,SOL=1000000000,JTO=1000000000"
    await _dexdesk(env, "account", "reset", "--balances", start, *db, "--seed", "3", "--time-scale", "0")
    await _dexdesk(env, "run", "--orders", "60", "--pairs", "SOL-USDC,JTO-USDC", *db, "--seed", "3",
                   "--time-scale", "0", "--rate-limit", "0")  # fmt: skip
    reads = [
        await _dexdesk(env, "account", "--json", *db, *flags)
        for flags in ([], ["--seed", "1", "--time-scale", "0"], ["--seed", "99", "--time-scale", "1"], ["--seed", "3"])
    ]
    assert reads[1:] == reads[:1] * 3
    view = json.loads(reads[0])
    positions = {position["pair"]: position for position in view["positions"]}
    # The starting tokens are longs at their mark at reset: selling them never reads as a short.
    assert Decimal(str(positions["SOL-USDC"]["startingSize"])) == 1_000_000_000
    assert Decimal(str(positions["JTO-USDC"]["startingSize"])) == 1_000_000_000
    assert all(Decimal(str(position["unrealizedPnl"])) != 0 for position in positions.values())


def _realized_in_fill_order(orders: list[Order], start: dict[str, tuple[Decimal, Decimal]]) -> dict[str, Decimal]:
    """Average cost and realized PnL recomputed from the stored orders alone, in the order they executed."""
    books = {pair: [size, cost, Decimal(0)] for pair, (size, cost) in start.items() if size}  # home pairs
    confirmed = [order for order in orders if order.status is OrderStatus.CONFIRMED]
    for order in sorted(confirmed, key=lambda order: (order.updated_at, order.seq)):
        assert order.execution_price is not None
        size, cost, realized = books.setdefault(order.pair, [Decimal(0), Decimal(0), Decimal(0)])
        signed = order.amount if order.direction is Direction.BUY else -order.amount
        if size == 0 or (size > 0) == (signed > 0):
            cost = (cost * abs(size) + order.execution_price * order.amount) / (abs(size) + order.amount)
        else:
            closed = min(abs(size), order.amount)
            realized += (order.execution_price - cost) * closed * (1 if size > 0 else -1)
            if abs(signed) > abs(size):
                cost = order.execution_price
            elif size + signed == 0:
                cost = Decimal(0)
        books[order.pair] = [size + signed, cost, realized]
    return {pair: realized for pair, (_size, _cost, realized) in books.items()}


def test_realized_pnl_equals_an_independent_recomputation_in_fill_order(sqlite_url: str) -> None:
    settings = engine_settings(time_scale=1, concurrency=10, rate_limit=0, seed=12, failure_rate=0)

    async def scenario(engine: Engine, timeline: Timeline) -> None:
        await engine.reset_account("USDC=10000000,SOL=1000")
        rng = random.Random(12)
        submitted = [
            await engine.submit("SOL-USDC", str(rng.choice([1, 2, 5, 10, 20])), rng.choice(["BUY", "SELL"]))
            for _ in range(60)
        ]
        finals = [await engine.wait_terminal(order.id) for order in submitted]
        fill_order = [order.seq for order in sorted(finals, key=lambda order: (order.updated_at, order.seq))]
        assert fill_order != sorted(fill_order), "concurrent swaps of 2-3 s must land out of submission order"
        account = AccountMarket.from_meta(await engine.store.read_account_meta())
        expected = _realized_in_fill_order(finals, account.start_marks)
        view = await engine.account()
        assert view is not None
        assert {position.pair: position.realized for position in view.positions} == expected

    on_virtual_time(sqlite_url, settings, scenario)


async def test_an_account_from_before_0008_trades_in_market_0_on_the_wall_clock(db_url: str) -> None:
    store = OrderStore(db_url)
    await store.open()
    try:
        engine = Engine(store, engine_settings(time_scale=0, seed=5))
        await engine.open_for_reading()
        await engine.reset_account("USDC=1000,SOL=3")
        assert (await store.read_account_meta())[TIME_BASE_KEY] == ORDERS
        async with store.engine.begin() as connection:
            await connection.run_sync(_migrate, "0006", down=True)
            # As the previous release stored it: a start and its balances, no market.
            await connection.execute(delete(account_meta).where(account_meta.c.key == START_MARKS_KEY))
        async with store.engine.begin() as connection:
            await connection.run_sync(_migrate, "head", down=False)
            meta = dict((await connection.execute(select(account_meta.c.key, account_meta.c.value))).all())
        assert AccountMarket.from_meta(meta) == AccountMarket(0, "wall", {})
        view = await engine.account()
        assert view is not None
        assert [(balance.token, balance.total) for balance in view.balances] == [
            ("SOL", Decimal(3)),
            ("USDC", Decimal(1000)),
        ]
    finally:
        await store.close()


async def test_revision_0008_measures_stored_slippage_against_the_price_sent_at(db_url: str) -> None:
    settings = engine_settings(time_scale=0, rate_limit=0, seed=21, failure_rate=0.4)
    store = OrderStore(db_url)
    await store.open()
    try:
        engine = Engine(store, settings)
        await engine.start()
        try:
            for index in range(12):
                await engine.submit("SOL-USDC", str(2 + index), "BUY" if index % 2 else "SELL")
            await engine.wait_idle()
        finally:
            await engine.stop()
        await store.open()
        confirmed = [order for order in await store.list_orders(limit=None) if order.status is OrderStatus.CONFIRMED]
        whole = [await store.get(order.id) for order in confirmed]
        before = (await engine.summary()).total.average_slippage_bps
        async with store.engine.begin() as connection:
            await connection.run_sync(_migrate, "0006", down=True)
            # As 0.2 stored them: quoted price and slippage against the routing quote.
            for order in whole:
                assert order is not None
                assert order.route is not None
                assert order.execution_price is not None
                routed = slippage_bps(order.direction, order.route.quoted_price, order.execution_price)
                await connection.execute(
                    update(orders)
                    .where(orders.c.id == order.id)
                    .values(quoted_price=order.route.quoted_price, slippage_bps=routed)
                )
        assert (await engine.summary()).total.average_slippage_bps != before, "retries routed at other prices"
        async with store.engine.begin() as connection:
            await connection.run_sync(_migrate, "head", down=False)
        for order in whole:
            assert order is not None
            [again] = [row for row in await store.list_orders(limit=None) if row.id == order.id]
            assert again.terms.quoted_price == sent_price(order)
        # The totals are sums of REAL on SQLite: the same figures, to float rounding.
        assert (await engine.summary()).total.average_slippage_bps == pytest.approx(before, abs=1e-9)
    finally:
        await store.close()
