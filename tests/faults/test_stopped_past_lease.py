"""Issue 21: a `dexdesk run` SIGSTOPped past its lease, with no competitor, finishes all its orders after SIGCONT.

Nobody else took its orders while it was stopped, so they are still its own: it must neither drop
them as "taken over by another process" nor leave them for a `resume`.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

import pytest

from engine.storage import OrderStore
from tests.faults.support import DEXDESK, TALLY, assert_nothing_lost, dexdesk_env, eventually

pytestmark = pytest.mark.slow

LEASE_S = 2.0  # dexdesk_env's lease


def _ended(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as connection:
            query = "SELECT count(*) FROM orders WHERE status IN ('CONFIRMED', 'FAILED')"
            return int(connection.execute(query).fetchone()[0])
    except sqlite3.Error:
        return 0


async def test_a_run_stopped_past_its_lease_finishes_every_order_after_it_continues(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    common = ["--db", f"sqlite+aiosqlite:///{path}", "--rate-limit", "0", "--seed", "14"]
    run = await asyncio.create_subprocess_exec(
        DEXDESK, "run", "--orders", "60", "--time-scale", "0.1", *common,
        env=dexdesk_env(tmp_path / "home"), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await eventually(lambda: _ended(path) >= 5 or run.returncode is not None, "the first orders to end", within=60)
        assert run.returncode is None, "the run ended before it could be stopped"
        run.send_signal(signal.SIGSTOP)
        TALLY.fault(f"dexdesk run SIGSTOPped for {3 * LEASE_S:g} s (its lease is {LEASE_S:g} s)")
        asyncio.get_running_loop().call_later(3 * LEASE_S, run.send_signal, signal.SIGCONT)
        _out, err = await asyncio.wait_for(run.communicate(), 90)
    finally:
        if run.returncode is None:
            run.send_signal(signal.SIGCONT)
            run.kill()
            await run.wait()
    assert run.returncode == 0, err.decode()
    assert b"dropped here" not in err, err.decode()
    assert b"another process" not in err, err.decode()
    store = OrderStore(f"sqlite+aiosqlite:///{path}")
    await store.open()
    try:
        orders = await store.list_orders(limit=None)
        assert len(orders) == 60
        await assert_nothing_lost(store, [order.id for order in orders])
    finally:
        await store.close()
