"""Issue 21: on SQLite, `cancel` and `resume` give up on a stalled writer after a lease, in one line naming it.

A writer stalled inside its transaction (a SIGSTOPped process) holds the file's write lock and
cannot be broken from outside; `cancel` and `resume` used to retry "database is locked" until
killed. The order here was left by a real `dexdesk submit` that was SIGKILLed (its process is named
in the owners table); the stalled writer is a real SQLite connection holding the write lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from tests.faults.support import DEXDESK, TALLY, dexdesk_env, eventually

pytestmark = pytest.mark.slow

LEASE_S = 2.0  # dexdesk_env's lease: the bound on the wait
LIMIT_ORDER = ("--pair", "SOL-USDC", "--amount", "1", "--direction", "BUY", "--type", "limit", "--limit-price", "1")


def _order_ids(path: Path) -> list[str]:
    if not path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as connection:
            return [row[0] for row in connection.execute("SELECT id FROM orders")]
    except sqlite3.Error:
        return []


async def _dexdesk(env: dict[str, str], *args: str) -> tuple[int, str, str, float]:
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        DEXDESK, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return int(process.returncode or 0), out.decode(), err.decode(), time.monotonic() - started


async def test_cancel_and_resume_give_up_on_a_stalled_sqlite_writer_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    common = ["--db", f"sqlite+aiosqlite:///{path}", "--time-scale", "0", "--seed", "3"]
    env = dexdesk_env(tmp_path / "home")
    submit = await asyncio.create_subprocess_exec(
        DEXDESK, "submit", *LIMIT_ORDER, *common,
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await eventually(lambda: _order_ids(path) or submit.returncode is not None, "the order stored", within=30)
        assert submit.returncode is None
    finally:
        submit.kill()
        await submit.wait()
    [order_id] = _order_ids(path)

    stalled = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        stalled.execute("BEGIN IMMEDIATE")  # the write lock, held as a stalled writer holds it
        TALLY.fault("a SQLite writer stalled inside its transaction")
        for args in (("cancel", order_id), ("resume",)):
            code, _out, err, took = await _dexdesk(env, *args, *common)
            lines = err.strip().splitlines()
            assert code == 2, err
            assert len(lines) == 1, err
            assert "stays locked by another process's unfinished write" in lines[0], err
            assert f":{submit.pid}:" in lines[0], "the line names the process that holds orders in the file"
            assert took < LEASE_S + 8, f"{args[0]} took {took:.1f} s to give up"
    finally:
        stalled.execute("ROLLBACK")
        stalled.close()

    code, out, err, _took = await _dexdesk(env, "cancel", order_id, *common)
    assert code == 0, err
    assert "CANCELLED" in out
