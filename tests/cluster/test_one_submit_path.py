"""Issue 21: a cluster producer submits through the engine's one path, and every process shares one market.

`dexdesk submit --queue …` used to store its order with no limit, no quote bound, no slippage and no
paper-account reservation, so a limit order ran at once as a market order and its fill never
reached the account (cluster limit orders: tests/cluster/test_cluster_limits.py). Real processes:
a `dexdesk worker`, `dexdesk submit`/`run` producers, a throwaway redis-server and a PostgreSQL schema.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from engine.model.domain import OrderStatus
from engine.storage import OrderStore
from tests.cluster.support import cluster
from tests.conftest import stored_orders

pytestmark = pytest.mark.slow

ORDER = ("--pair", "SOL-USDC", "--amount", "1", "--direction", "BUY")
START = {"USDC": Decimal(10000), "SOL": Decimal(10)}


async def test_a_cluster_market_order_is_bound_reserved_and_settled(
    tmp_path: Path,
) -> None:
    async with cluster(tmp_path, "--time-scale", "0", "--rate-limit", "0", "--seed", "11") as running:
        await running.start_worker()
        balances = ",".join(f"{token}={amount}" for token, amount in START.items())
        code, _out, err = await running.produce("account", "reset", "--balances", balances)
        assert code == 0, err

        code, out, err = await running.produce("submit", *ORDER, "--slippage", "2")
        assert code in (0, 1), out + err  # CONFIRMED, or FAILED by the simulation's own failures
        [listed] = await stored_orders(running.db_url)
        store = OrderStore(running.db_url)
        await store.open()
        try:
            order = await store.get(listed.id)
            account = await store.read_account()
        finally:
            await store.close()
        assert order is not None
        assert order.terms.slippage == Decimal("0.02")
        assert order.terms.quoted_price is not None
        assert order.terms.price_bound == (order.terms.quoted_price * Decimal("1.02")).quantize(order.terms.price_bound)
        assert account is not None
        _started, stored_balances, fills = account
        totals = {balance.token: balance.total for balance in stored_balances}
        assert all(balance.reserved == 0 for balance in stored_balances), "the reserve is released at the end"
        if order.status is OrderStatus.CONFIRMED:
            assert order.execution_price is not None
            assert [fill.order_id for fill in fills] == [order.id]
            assert totals["SOL"] == START["SOL"] + 1
            assert totals["USDC"] == START["USDC"] - order.execution_price
        else:
            assert totals == START


async def test_an_unseeded_worker_executes_on_the_market_its_unseeded_producer_quoted(tmp_path: Path) -> None:
    """No `--seed` anywhere: producer and worker both take market seed 0, so no order misses its bound."""
    async with cluster(tmp_path, "--time-scale", "0", "--rate-limit", "0") as running:
        await running.start_worker()
        code, out, err = await running.produce("run", "--orders", "150", "--json")
        assert code == 0, out + err
        orders = await stored_orders(running.db_url)
        assert len(orders) == 150
        assert all(order.is_terminal for order in orders)
        bound_misses = Counter(
            order.error for order in orders if order.status is OrderStatus.FAILED and "slippage" in (order.error or "")
        )
        assert not bound_misses, bound_misses
