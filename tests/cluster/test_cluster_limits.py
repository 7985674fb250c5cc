"""Issue 21: limit orders in cluster mode, watched by their own job so they outlive any worker.

A producer used to refuse them in one line (a waiting limit order lived in one process's limit
book). Real processes: `dexdesk worker`s, `dexdesk submit --type limit … --queue …` producers, a
throwaway redis-server and a PostgreSQL schema; the checks read the real database.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from redis.asyncio import Redis

from engine.cluster.config import QUEUE_NAME
from engine.model.domain import Order, OrderStatus
from engine.model.log_kinds import LogKind
from engine.model.outcomes import EXPIRED
from engine.storage import OrderStore
from tests.cluster.support import Cluster, cluster
from tests.conftest import stored_orders
from tests.faults.support import eventually

pytestmark = pytest.mark.slow

START = {"USDC": Decimal(10000), "SOL": Decimal(10)}
LEASE_S = 3.0


async def _reset_account(running: Cluster) -> None:
    balances = ",".join(f"{token}={amount}" for token, amount in START.items())
    code, _out, err = await running.produce("account", "reset", "--balances", balances)
    assert code == 0, err


async def _read(running: Cluster, order_id: str) -> tuple[Order, dict[str, tuple[Decimal, Decimal]], list[str]]:
    """The order with its log, each token's (total, reserved), and the ids of the account's fills."""
    store = OrderStore(running.db_url)
    await store.open()
    try:
        order = await store.get(order_id)
        account = await store.read_account()
    finally:
        await store.close()
    assert order is not None
    assert account is not None
    _started, balances, fills = account
    return order, {b.token: (b.total, b.reserved) for b in balances}, [fill.order_id for fill in fills]


def _assert_expired_on_time(order: Order) -> None:
    assert order.status is OrderStatus.FAILED, order
    assert order.error == EXPIRED
    expires = order.terms.expires_at
    assert expires is not None
    # Looked at every half second, and at the expiry itself: ended within a second of it.
    assert expires <= order.updated_at <= expires + timedelta(seconds=1.5), (expires, order.updated_at)
    assert [entry.kind for entry in order.logs].count(LogKind.EXPIRED) == 1


async def test_a_cluster_cli_limit_order_triggers_and_fills_with_the_paper_account_charged(tmp_path: Path) -> None:
    async with cluster(tmp_path, "--time-scale", "0", "--rate-limit", "0", "--seed", "5") as running:
        await running.start_worker()
        await _reset_account(running)
        # Selling at or above 1 USDC: reached at the first look.
        code, out, err = await running.produce(
            "submit",
            "--pair",
            "SOL-USDC",
            "--amount",
            "1",
            "--direction",
            "SELL",
            "--type",
            "limit",
            "--limit-price",
            "1",
        )
        assert code == 0, out + err
        [listed] = await stored_orders(running.db_url)
        order, balances, fills = await _read(running, listed.id)
        assert order.status is OrderStatus.CONFIRMED
        assert order.terms.limit_price == Decimal(1)
        kinds = [entry.kind for entry in order.logs]
        assert kinds.count(LogKind.LIMIT_TRIGGERED) == 1
        assert order.execution_price is not None
        assert order.execution_price >= 1
        assert fills == [order.id]
        assert balances["SOL"] == (START["SOL"] - 1, 0)
        assert balances["USDC"] == (START["USDC"] + order.execution_price, 0)


async def test_a_cluster_limit_order_that_never_triggers_expires_on_time_and_releases_its_reserve(
    tmp_path: Path,
) -> None:
    async with cluster(tmp_path, "--time-scale", "0", "--rate-limit", "0", "--seed", "5") as running:
        await running.start_worker()
        await _reset_account(running)
        submit = running.produce(
            "submit", "--pair", "SOL-USDC", "--amount", "2", "--direction", "BUY", "--type", "limit",
            "--limit-price", "1.5", "--expires", "3",
        )  # fmt: skip
        producer = asyncio.ensure_future(submit)

        async def reserved() -> bool:
            orders = await stored_orders(running.db_url)
            if not orders:
                return False
            _order, balances, _fills = await _read(running, orders[0].id)
            return balances["USDC"][1] == Decimal(3)  # 2 × 1.5 held while it waits

        await eventually(reserved, "the waiting limit order to hold its reserve", within=20, every=0.1)
        code, out, err = await asyncio.wait_for(producer, 30)
        assert code == 1, out + err
        assert EXPIRED in out, out
        [listed] = await stored_orders(running.db_url)
        order, balances, fills = await _read(running, listed.id)
        _assert_expired_on_time(order)
        assert fills == []
        assert balances == {token: (amount, 0) for token, amount in START.items()}


async def test_a_waiting_cluster_limit_order_outlives_its_sigkilled_worker(tmp_path: Path) -> None:
    async with cluster(tmp_path, "--time-scale", "0", "--rate-limit", "0", "--seed", "5") as running:
        first = await running.start_worker("--lease", str(LEASE_S))
        await _reset_account(running)
        submit = running.produce(
            "submit", "--pair", "SOL-USDC", "--amount", "1", "--direction", "BUY", "--type", "limit",
            "--limit-price", "1", "--expires", "6",
        )  # fmt: skip
        producer = asyncio.ensure_future(submit)
        await eventually(stored_orders_exist(running), "the limit order to be stored", within=20, every=0.1)
        # The worker has looked at it at least once (its job went to BullMQ's delayed set), then dies.
        await eventually(lambda: job_delayed(running), "the order's job to wait for its next look", within=10)
        first.process.send_signal(signal.SIGKILL)
        await first.process.wait()
        await running.start_worker("--lease", str(LEASE_S))
        code, out, err = await asyncio.wait_for(producer, 40)
        assert code == 1, out + err
        [listed] = await stored_orders(running.db_url)
        order, balances, _fills = await _read(running, listed.id)
        assert order.status is OrderStatus.FAILED
        assert order.error == EXPIRED
        expires = order.terms.expires_at
        assert expires is not None
        # Taken over by the new worker: ended within a lease of its expiry, its reserve released.
        assert order.updated_at <= expires + timedelta(seconds=LEASE_S + 1.5)
        assert [entry.kind for entry in order.logs].count(LogKind.EXPIRED) == 1
        assert balances == {token: (amount, 0) for token, amount in START.items()}


def stored_orders_exist(running: Cluster) -> object:
    async def check() -> bool:
        return bool(await stored_orders(running.db_url))

    return check


async def job_delayed(running: Cluster) -> bool:
    client = Redis.from_url(running.redis.url, decode_responses=True)
    try:
        return bool(await client.zcard(f"bull:{QUEUE_NAME}:delayed"))
    finally:
        await client.aclose()
