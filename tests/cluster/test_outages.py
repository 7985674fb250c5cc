"""Issue 21: a PostgreSQL outage under three workers, or a Redis restarted empty under two, strands no order.

PostgreSQL "stops" for 6 s behind a proxy (every connection cut, new ones refused; the shared
server itself is never stopped) while three real `dexdesk worker`s run 200 orders a real
`dexdesk run` producer submitted. Every order must end once, none executed twice, with no traceback
anywhere and the producer ending 0. It used to leave about a quarter of the orders PENDING or
SUBMITTED with their BullMQ jobs in `failed` ("Connect call failed") and nobody working on them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from engine.storage import OrderStore
from tests.cluster.support import cluster
from tests.faults.pg_proxy import CommitDroppingProxy
from tests.faults.support import DEXDESK, TALLY, assert_nothing_lost, eventually

pytestmark = pytest.mark.slow

ORDERS = 200
OUTAGE_S = 6.0


async def _ended(db_url: str) -> int:
    store = OrderStore(db_url)
    await store.open()
    try:
        counts = await store.counts_by_status()
    finally:
        await store.close()
    return sum(count for status, count in counts.items() if status.is_terminal)


async def test_postgres_away_for_six_seconds_under_three_workers_strands_no_order(tmp_path: Path) -> None:
    options = ("--time-scale", "0.2", "--rate-limit", "0", "--seed", "5", "--concurrency", "5")
    async with cluster(tmp_path, *options) as running, CommitDroppingProxy(drop=lambda _n: False) as proxy:
        direct_url = running.db_url
        schema = parse_qs(urlparse(direct_url).query)["schema"][0]
        running.db_url = proxy.url(schema)  # every dexdesk process goes through the proxy
        for _ in range(3):
            await running.start_worker("--lease", "3")
        producer = await asyncio.create_subprocess_exec(
            DEXDESK, "run", "--orders", str(ORDERS), "--json", *running.args(),
            env=running.env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await eventually(lambda: _ended(direct_url), "the first orders to end", within=60, every=0.1)
            proxy.cut()
            TALLY.fault(f"PostgreSQL away for {OUTAGE_S:g} s under 3 workers")
            asyncio.get_running_loop().call_later(OUTAGE_S, proxy.restore)  # the outage's length is the fault
            _out, err = await asyncio.wait_for(producer.communicate(), 120)
        finally:
            if producer.returncode is None:
                producer.kill()
                await producer.wait()
        assert producer.returncode == 0, err.decode()
        assert b"Traceback" not in err, err.decode()
        store = OrderStore(direct_url)
        await store.open()
        try:
            ids = [order.id for order in await store.list_orders(limit=None)]
            assert len(ids) == ORDERS
            await assert_nothing_lost(store, ids)
        finally:
            await store.close()
        await running.stop()
        for worker in running.workers:
            assert "Traceback" not in worker.log.read_text(), worker.log.read_text()[-3000:]


async def test_redis_restarted_empty_under_two_workers_strands_no_order(tmp_path: Path) -> None:
    """The queue's Redis is SIGKILLed and started again empty (no persistence): every job it held is gone."""
    options = ("--time-scale", "0.2", "--rate-limit", "0", "--seed", "6", "--concurrency", "5")
    async with cluster(tmp_path, *options) as running:
        for _ in range(2):
            await running.start_worker("--lease", "3")
        producer = await asyncio.create_subprocess_exec(
            DEXDESK, "run", "--orders", str(ORDERS), "--json", *running.args(),
            env=running.env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await eventually(lambda: _ended(running.db_url), "the first orders to end", within=60, every=0.1)
            await running.redis.kill()
            await running.redis.start()
            TALLY.fault("the queue's Redis restarted empty under 2 workers")
            _out, err = await asyncio.wait_for(producer.communicate(), 120)
        finally:
            if producer.returncode is None:
                producer.kill()
                await producer.wait()
        assert producer.returncode == 0, err.decode()
        assert b"Traceback" not in err, err.decode()
        store = OrderStore(running.db_url)
        await store.open()
        try:
            ids = [order.id for order in await store.list_orders(limit=None)]
            assert len(ids) == ORDERS
            await assert_nothing_lost(store, ids)
        finally:
            await store.close()
        await running.stop()
        for worker in running.workers:
            assert "Traceback" not in worker.log.read_text(), worker.log.read_text()[-3000:]
