"""A real `dexdesk run --orders 200` SIGKILLed mid-run; the next start finishes every order exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine.model.domain import OrderStatus
from engine.storage import OrderStore
from tests.faults.support import DEXDESK, assert_nothing_lost, dexdesk_env

pytestmark = pytest.mark.slow


async def _finished_lines(stream: asyncio.StreamReader, wanted: int) -> int:
    """Read the engine's own log until `wanted` orders have ended (it logs each end at INFO)."""
    seen = 0
    while seen < wanted:
        line = await stream.readline()
        if not line:
            break
        if b" CONFIRMED after " in line or b" FAILED after " in line:
            seen += 1
    return seen


async def test_sigkill_mid_run_then_resume_loses_nothing_and_executes_nothing_twice(
    db_url: str, tmp_path: Path
) -> None:
    env = dexdesk_env(tmp_path / "home")
    common = ["--db", db_url, "--seed", "13", "--rate-limit", "0"]
    process = await asyncio.create_subprocess_exec(
        DEXDESK, "-v", "run", "--orders", "200", "--time-scale", "0.05", *common,
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        ended = await asyncio.wait_for(_finished_lines(process.stderr, 60), timeout=60)
        assert ended == 60, "the run ended before it could be killed mid-way"
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()

    store = OrderStore(db_url)
    await store.open()
    try:
        before = await store.counts_by_status()
        assert sum(before.values()) == 200, "every order is stored before any is processed"
        unfinished = sum(count for status, count in before.items() if not status.is_terminal)
        assert unfinished > 0, "the kill must leave orders in flight or queued"

        resume = await asyncio.create_subprocess_exec(
            DEXDESK, "resume", "--time-scale", "0", *common,
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(resume.communicate(), timeout=120)
        assert resume.returncode == 0, err.decode()
        assert f"resumed {unfinished} unfinished orders" in out.decode()

        orders = await store.list_orders()
        assert len(orders) == 200
        assert all(order.status in (OrderStatus.CONFIRMED, OrderStatus.FAILED) for order in orders)
        await assert_nothing_lost(store, [order.id for order in orders])
    finally:
        await store.close()
