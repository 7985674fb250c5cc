"""Fault 2: another process holds the SQLite file's write lock for seconds.

Orders wait and then finish; nothing is lost, and nothing is announced before it is committed.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys

import pytest

from engine.model.domain import OrderUpdate
from engine.runtime.engine import engine_settings
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.conftest import running
from tests.faults.support import TALLY, assert_nothing_lost, eventually

pytestmark = pytest.mark.slow  # real processes or servers: the slow lane (pytest -m slow)

# The other process: take the write lock (BEGIN IMMEDIATE) and hold it until told to let go.
HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
connection.execute("COMMIT")
print("released", flush=True)
"""
# Each retry follows a 2 s busy timeout: two of them keep the lock held for several seconds.
RETRIES_UNDER_LOCK = 2


async def test_sqlite_write_lock_held_by_another_process(sqlite_url: str) -> None:
    path = sqlite_url.split(":///", 1)[1]
    announced: list[OrderUpdate] = []
    early: list[str] = []
    async with running(sqlite_url, engine_settings(time_scale=0.05, rate_limit=0, seed=9)) as engine:
        reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

        def check_committed(update: OrderUpdate) -> None:
            """Called right after the commit: the database must already hold this state (or a later one).

            One group commit may carry two states of one order (BUILDING and SUBMITTED queued behind
            the lock); the earlier is then announced while the row already holds the later. Logs only
            grow, so "this state is stored" is: the stored log holds at least the announced entries,
            and a row with exactly that many is in the announced status.
            """
            row = reader.execute("SELECT status, log_count FROM orders WHERE id = ?", (update.order_id,)).fetchone()
            logs = len(update.order.logs)
            if row is None or row[1] < logs or (row[1] == logs and row[0] != str(update.status)):
                early.append(f"{update.order_id} announced {update.status} but stored {row}")
            announced.append(update)

        engine.subscribe(check_committed)
        first = await engine.submit_many(random_requests(default_catalog(), 20, seed=1))
        await eventually(lambda: any(u.status == "SUBMITTED" for u in announced), "orders to be in flight")

        holder = await asyncio.create_subprocess_exec(
            sys.executable, "-c", HOLDER, path, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        assert holder.stdin is not None
        assert holder.stdout is not None
        assert await asyncio.wait_for(holder.stdout.readline(), 10) == b"locked\n"
        retries_before = engine.store.retries
        during = asyncio.create_task(engine.submit_many(random_requests(default_catalog(), 10, seed=2)))
        await eventually(
            lambda: engine.store.retries >= retries_before + RETRIES_UNDER_LOCK,
            "the engine to meet the lock and wait through it",
            within=20,
        )
        assert "locked" in (engine.store.last_error or "")
        assert not during.done(), "a new order was stored while another process held the lock"
        TALLY.fault("SQLite write lock held by another process through two busy timeouts")
        holder.stdin.write(b"release\n")
        await holder.stdin.drain()
        assert await asyncio.wait_for(holder.stdout.readline(), 10) == b"released\n"
        await holder.wait()
        second = await asyncio.wait_for(during, 20)
        await asyncio.wait_for(engine.wait_idle(), 30)
        ids = [order.id for order in first + second]
        await assert_nothing_lost(engine.store, ids)
        for order_id in ids:
            stored = await engine.store.get(order_id)
            assert stored is not None
            mine = [u for u in announced if u.order_id == order_id]
            assert [u.status for u in mine][-1] == stored.status
            assert len(mine[-1].order.logs) == len(stored.logs), "stored log and announced log differ"
        reader.close()
    assert not early, early[:3]
