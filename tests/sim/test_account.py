"""The paper account: reserve on submit, settle on CONFIRMED, release on FAILED and CANCELLED, exactly."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from engine.account.model import format_amount
from engine.model.domain import OrderStatus
from engine.model.validation import InvalidOrder
from engine.runtime.engine import Engine, engine_settings
from tests.conftest import running

SETTLED = engine_settings(time_scale=0, rate_limit=0, seed=4, failure_rate=0)


async def _balances(engine: Engine) -> dict[str, tuple[Decimal, Decimal]]:
    view = await engine.account()
    assert view is not None
    return {balance.token: (balance.total, balance.reserved) for balance in view.balances}


async def test_buy_and_sell_reserve_then_settle_exactly(db_url: str) -> None:
    async with running(db_url, SETTLED) as engine:
        await engine.reset_account("USDC=10000,SOL=10")
        # A limit BUY far below the market waits: it reserves amount × limit, exactly.
        waiting = await engine.submit("SOL-USDC", "2.5", "BUY", order_type="limit", limit_price="1.2345")
        assert await _balances(engine) == {"USDC": (Decimal(10000), Decimal("3.08625")), "SOL": (Decimal(10), 0)}
        cancelled = await engine.cancel(waiting.id)
        assert cancelled.outcome == "cancelled"
        assert cancelled.order is not None
        assert cancelled.order.status is OrderStatus.CANCELLED
        assert waiting.id not in engine.limits
        assert await _balances(engine) == {"USDC": (Decimal(10000), 0), "SOL": (Decimal(10), 0)}

        buy = await engine.wait_terminal((await engine.submit("SOL-USDC", "2.5", "BUY")).id)
        assert buy.status is OrderStatus.CONFIRMED
        assert buy.execution_price is not None
        paid = Decimal("2.5") * buy.execution_price
        assert await _balances(engine) == {"USDC": (10000 - paid, 0), "SOL": (Decimal("12.5"), 0)}

        sell = await engine.wait_terminal((await engine.submit("SOL-USDC", "3.75", "SELL")).id)
        assert sell.status is OrderStatus.CONFIRMED
        assert sell.execution_price is not None
        received = Decimal("3.75") * sell.execution_price
        assert await _balances(engine) == {"USDC": (10000 - paid + received, 0), "SOL": (Decimal("8.75"), 0)}

        view = await engine.account()
        assert view is not None
        # The 10 SOL it started with are a long bought at their mark at reset, so selling 3.75
        # closes part of that long (never a short); the 10,000 USDC are held in USDC-USDT.
        sol, usdc = view.positions
        assert (sol.pair, usdc.pair) == ("SOL-USDC", "USDC-USDT")
        assert sol.starting == Decimal(10)
        assert sol.size == Decimal("8.75")
        assert sol.mark is not None
        opened_at = (await engine.store.read_account_meta())["start_marks"]
        start_mark = Decimal(json.loads(opened_at)["SOL-USDC"][1])
        average = (10 * start_mark + Decimal("2.5") * buy.execution_price) / Decimal("12.5")
        assert sol.average_cost == average
        assert sol.realized == (sell.execution_price - average) * Decimal("3.75")
        assert sol.fees > 0
        assert (usdc.size, usdc.realized, usdc.fills) == (Decimal(10000), 0, 0)


async def test_failed_orders_release_their_reserve(sqlite_url: str) -> None:
    failing = engine_settings(time_scale=0, rate_limit=0, seed=4, failure_rate=1)
    async with running(sqlite_url, failing) as engine:
        await engine.reset_account("USDC=1000,SOL=5")
        buy = await engine.submit("SOL-USDC", "1", "BUY")
        sell = await engine.submit("SOL-USDC", "5", "SELL")  # all of it: reserved while it runs
        for order in (buy, sell):
            assert (await engine.wait_terminal(order.id)).status is OrderStatus.FAILED
        assert await _balances(engine) == {"USDC": (Decimal(1000), 0), "SOL": (Decimal(5), 0)}


async def test_a_shortfall_is_refused_naming_the_numbers_and_nothing_is_stored(db_url: str) -> None:
    async with running(db_url, SETTLED) as engine:
        await engine.reset_account("USDC=5000,SOL=10")
        decision = engine.indicative_quote("SOL-USDC", Decimal(100), engine.validate("SOL-USDC", "1", "buy").direction)
        with pytest.raises(InvalidOrder) as refused:
            await engine.submit("SOL-USDC", "100", "BUY")
        bound = (decision.chosen.effective_price * Decimal("1.01")).quantize(Decimal("0.0001"))
        assert str(refused.value) == f"amount: needs {format_amount(100 * bound)} USDC, 5,000.00 available"
        assert refused.value.for_field("amount")
        with pytest.raises(InvalidOrder, match=r"^amount: needs 10\.50 SOL, 10\.00 available$"):
            await engine.submit("SOL-USDC", "10.5", "SELL")
        with pytest.raises(InvalidOrder, match=r"amount: needs .* USDT, 0\.00 available"):
            await engine.submit("SOL-USDT", "1", "BUY")
        assert await engine.counts_by_status() == {}
        assert await _balances(engine) == {"USDC": (Decimal(5000), 0), "SOL": (Decimal(10), 0)}


async def test_without_an_account_orders_are_not_limited(sqlite_url: str) -> None:
    async with running(sqlite_url, SETTLED) as engine:
        order = await engine.wait_terminal((await engine.submit("BTC-USDC", "50", "BUY")).id)
        assert order.status is OrderStatus.CONFIRMED
        assert await engine.account() is None


async def test_orders_from_before_the_account_stay_out_and_reserved_ones_settle_exactly(db_url: str) -> None:
    """Orders from before the account end unsettled; the reserved ones after it settle exactly, none left held.

    On PostgreSQL a commit is one statement unless an ending order holds a reservation; those are
    written again with their settlement in a transaction (engine/storage/fast_write.py).
    """
    async with running(db_url, SETTLED) as engine:
        before = [await engine.submit("SOL-USDC", "1", "BUY") for _ in range(3)]
        for order in before:
            await engine.wait_terminal(order.id)
        await engine.reset_account("USDC=10000,SOL=10")
        # Queued together, they end close together: the first commit that ends one takes the guarded
        # statement (nothing settled lately), the ones after go straight to the settling transaction.
        requests = [("SOL-USDC", "2", "BUY"), ("SOL-USDC", "1", "SELL"), ("SOL-USDC", "0.5", "BUY")]
        mixed = await engine.submit_many([engine.validate(*request) for request in requests])
        ended = [await engine.wait_terminal(order.id) for order in mixed]
        assert all(order.status is OrderStatus.CONFIRMED for order in ended)
        bought = sum((o.amount for o in ended if o.direction.value == "BUY"), Decimal(0))
        sold = sum((o.amount for o in ended if o.direction.value == "SELL"), Decimal(0))
        balances = await _balances(engine)
        assert balances["SOL"] == (Decimal(10) + bought - sold, 0)
        assert balances["USDC"][1] == 0, "every reservation was settled, none left held"
        view = await engine.account()
        assert view is not None
        assert sum(position.fills for position in view.positions) == len(mixed)
