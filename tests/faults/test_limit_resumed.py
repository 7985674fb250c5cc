"""Issue 21: a waiting limit order that outlives its process still expires on time.

The order is stored by a real `dexdesk submit`, whose process is then SIGKILLed (or stopped
cleanly with Ctrl-C, which hands the order back); a real `dexdesk resume` takes it over. The limit
book used to act on its copy of the order from before the `resumed` entry was stored, so the
expiry's log entry collided with it (UNIQUE constraint failed: order_logs) and `resume` never ended.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from engine.model.domain import OrderStatus
from engine.storage import OrderStore
from tests.faults.support import DEXDESK, dexdesk_env, eventually

pytestmark = pytest.mark.slow

EXPIRES_S = 6.0
# BUY SOL at 1 USDC: never reached, so the order waits for its expiry.
LIMIT_ORDER = ("--pair", "SOL-USDC", "--amount", "1", "--direction", "BUY", "--type", "limit", "--limit-price", "1")


def _stored_count(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as connection:
            return int(connection.execute("SELECT count(*) FROM orders").fetchone()[0])
    except sqlite3.Error:
        return 0  # the schema is not there yet


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT], ids=["sigkill", "ctrl-c"])
async def test_a_limit_order_left_by_its_process_expires_on_time_under_resume(
    tmp_path: Path, stop: signal.Signals
) -> None:
    path = tmp_path / "orders.db"
    common = ["--db", f"sqlite+aiosqlite:///{path}", "--time-scale", "1", "--seed", "4"]
    env = dexdesk_env(tmp_path / "home")
    submit = await asyncio.create_subprocess_exec(
        DEXDESK, "submit", *LIMIT_ORDER, "--expires", f"{EXPIRES_S:g}", *common,
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await eventually(
            lambda: _stored_count(path) == 1 or submit.returncode is not None, "the order to be stored", within=30
        )
        assert submit.returncode is None, "submit ended before it could be stopped"
        submit.send_signal(stop)
        await asyncio.wait_for(submit.wait(), 10)
    finally:
        if submit.returncode is None:
            submit.kill()
            await submit.wait()

    resume = await asyncio.create_subprocess_exec(
        DEXDESK, "resume", *common, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(resume.communicate(), EXPIRES_S + 20)
    finally:
        if resume.returncode is None:
            resume.kill()
            await resume.wait()
    assert resume.returncode == 0, err.decode()
    assert b"resumed 1 unfinished order" in out, out + err
    assert b"UNIQUE" not in err, err.decode()
    assert b"Traceback" not in err, err.decode()

    store = OrderStore(f"sqlite+aiosqlite:///{path}")
    await store.open()
    try:
        [listed] = await store.list_orders(limit=None)
        order = await store.get(listed.id)
        account = await store.read_account()
    finally:
        await store.close()
    assert order is not None
    assert order.status is OrderStatus.FAILED
    assert order.error == "expired"
    kinds = Counter(entry.kind for entry in order.logs)
    assert kinds["resumed"] == 1
    assert kinds["expired"] == 1
    expires_at = order.terms.expires_at
    assert expires_at is not None
    late_s = (order.updated_at - expires_at).total_seconds()
    assert 0 <= late_s < 2, f"expired {late_s:.1f} s after its expiry"
    if account is not None:
        _started, balances, _fills = account
        assert all(balance.reserved == 0 for balance in balances), "the expired order's reserve is released"
