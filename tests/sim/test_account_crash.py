"""A real `dexdesk run` with an account, SIGKILLed: after resume, balances = start + settled fills."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from engine.account.model import tokens_of
from engine.model.domain import Direction, OrderStatus
from engine.storage import OrderStore
from tests.engine.test_crash_resume import _finished_lines
from tests.faults.support import DEXDESK, dexdesk_env

pytestmark = pytest.mark.slow

TOKENS = ("SOL", "USDC", "USDT", "JUP", "RAY", "BONK", "WIF", "JTO", "PYTH", "ETH", "BTC")
START = Decimal("10000000000000")


async def test_balances_after_a_sigkill_and_resume_equal_the_start_plus_settled_fills(
    db_url: str, tmp_path: Path
) -> None:
    env = dexdesk_env(tmp_path / "home")
    common = ["--db", db_url, "--seed", "17", "--rate-limit", "0"]
    balances = ",".join(f"{token}={START}" for token in TOKENS)
    reset = await asyncio.create_subprocess_exec(
        DEXDESK, "account", "reset", "--balances", balances, *common,
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(reset.communicate(), timeout=60)
    assert reset.returncode == 0, err.decode()

    process = await asyncio.create_subprocess_exec(
        DEXDESK, "-v", "run", "--orders", "150", "--time-scale", "0.05", *common,
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        ended = await asyncio.wait_for(_finished_lines(process.stderr, 40), timeout=60)
        assert ended == 40, "the run ended before it could be killed mid-way"
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()

    resume = await asyncio.create_subprocess_exec(
        DEXDESK, "resume", "--time-scale", "0", *common,
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(resume.communicate(), timeout=120)
    assert resume.returncode == 0, err.decode()

    store = OrderStore(db_url)
    await store.open()
    try:
        orders = await store.list_orders()
        account = await store.read_account()
    finally:
        await store.close()
    assert len(orders) == 150
    assert all(order.is_terminal for order in orders)
    expected = dict.fromkeys(TOKENS, START)
    confirmed = [order for order in orders if order.status is OrderStatus.CONFIRMED]
    for order in confirmed:
        assert order.execution_price is not None
        base, quote = tokens_of(order.pair)
        notional = order.amount * order.execution_price
        sign = 1 if order.direction is Direction.BUY else -1
        expected[base] += sign * order.amount
        expected[quote] -= sign * notional
    assert account is not None
    _started, stored_balances, fills = account
    assert {balance.token: balance.total for balance in stored_balances} == expected
    assert all(balance.reserved == 0 for balance in stored_balances)
    assert all(balance.total >= 0 for balance in stored_balances)
    assert sorted(fill.order_id for fill in fills) == sorted(order.id for order in confirmed)
