"""PostgreSQL commits, but the acknowledgement never reaches dexdesk (a proxy cuts the link after COMMIT).

A group commit is often one statement outside a transaction block, which commits on its own: in the
run of 2,000 those acknowledgements are cut too.

A retried write must recognise what is already committed: every order ends once, none is stuck,
no traceback; a retried submit finds the order it stored instead of making a second one.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from tests.conftest import postgres_schema
from tests.faults.pg_proxy import CommitDroppingProxy
from tests.faults.support import DEXDESK, TALLY, assert_nothing_lost, dexdesk_env

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


async def _dexdesk(*args: str, env: dict[str, str], within: float) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        DEXDESK, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), within)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def _stored_ids(url: str) -> list[str]:
    from engine.storage import OrderStore

    store = OrderStore(url)
    await store.open()
    try:
        return [order.id for order in await store.list_orders()]
    finally:
        await store.close()


async def test_a_run_of_2000_with_commit_acknowledgements_lost_ends_every_order_once(tmp_path: Path) -> None:
    from engine.storage import OrderStore

    every_seventh = CommitDroppingProxy(drop=lambda n: n % 7 == 0, autocommit=True)
    async with postgres_schema() as direct_url, every_seventh as proxy:
        schema = direct_url.rsplit("schema=", 1)[1]
        env = dexdesk_env(tmp_path / "home")
        args = ["run", "--orders", "2000", "--time-scale", "0", "--rate-limit", "0", "--seed", "9", "--json"]
        code, _out, err = await _dexdesk(*args, "--db", proxy.url(schema), env=env, within=300)
        assert "Traceback" not in err, err[-3000:]
        assert code in (0, 1), err[-3000:]
        assert proxy.dropped >= 20, f"only {proxy.dropped} acknowledgements were cut"

        ids = await _stored_ids(direct_url)
        assert len(ids) == 2000, f"{len(ids)} orders stored"
        store = OrderStore(direct_url)
        await store.open()
        try:
            await assert_nothing_lost(store, ids)
        finally:
            await store.close()
    TALLY.fault(f"PostgreSQL COMMIT acknowledgement cut {proxy.dropped} times in a run of 2,000", proxy.dropped)


async def test_a_submit_whose_commit_acknowledgement_is_lost_never_makes_two_orders(tmp_path: Path) -> None:
    async with postgres_schema() as direct_url:
        schema = direct_url.rsplit("schema=", 1)[1]
        env = dexdesk_env(tmp_path / "home")
        # Cut the k-th COMMIT of each submit, k = 1…6: one of them is the new order's own insert.
        for k in range(1, 7):
            async with CommitDroppingProxy(drop=lambda n, k=k: n == k) as proxy:
                args = ["submit", "--pair", "SOL-USDC", "--amount", "1", "--direction", "BUY", "--time-scale", "0"]
                code, out, err = await _dexdesk(*args, "--db", proxy.url(schema), env=env, within=60)
            assert "Traceback" not in err, err
            assert code in (0, 1), err
            first_line = out.splitlines()[0] if out else ""
            assert _UUID.match(first_line), f"submit printed no order id (k={k}): {out!r} {err!r}"
            assert proxy.dropped == 1
        ids = await _stored_ids(direct_url)
        assert len(ids) == 6, f"{len(ids)} orders stored for 6 submits"
