"""Issue 21: a dexdesk process stalled inside a write transaction blocks nobody for longer than a lease.

A real dexdesk session (an `OrderStore`'s own connection) locks an order's row in a transaction
and then stalls, as a SIGSTOPped `run` inside its group commit does. A real `dexdesk cancel` of
that order used to wait on the lock for 10 minutes; now the server ends the stalled session
(idle_in_transaction_session_timeout) and the cancel goes through well within the default lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest
from sqlalchemy import update

from engine.cluster.producer import now_ms
from engine.model.validation import validate_order
from engine.storage import OrderStore
from engine.storage.schema import orders
from engine.trading.pairs import default_catalog
from tests.conftest import postgres_schema
from tests.faults.support import DEXDESK, TALLY, dexdesk_env

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DEFAULT_LEASE_S = 10.0


async def test_a_stalled_transaction_does_not_block_a_cancel_past_the_lease(tmp_path: Path) -> None:
    async with postgres_schema() as url:
        store = OrderStore(url)
        await store.open()
        stalled = None
        try:
            request = validate_order("SOL-USDC", "1", "BUY", default_catalog())
            [(order, _created)] = await store.insert([request.to_order(now_ms())])
            stalled = await store.engine.connect()
            await stalled.begin()
            await stalled.execute(update(orders).where(orders.c.id == order.id).values(version=orders.c.version))
            TALLY.fault("a dexdesk session stalled inside a write transaction holding an order's row lock")

            started = time.monotonic()
            cancel = await asyncio.create_subprocess_exec(
                DEXDESK, "cancel", order.id, "--db", url,
                env=dexdesk_env(tmp_path / "home"), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            try:
                out, err = await asyncio.wait_for(cancel.communicate(), 30)
            finally:
                if cancel.returncode is None:
                    cancel.kill()
                    await cancel.wait()
            took = time.monotonic() - started
            assert cancel.returncode == 0, (out + err).decode()
            assert b"CANCELLED" in out
            assert took < DEFAULT_LEASE_S, f"the cancel waited {took:.1f} s behind the stalled transaction"
        finally:
            if stalled is not None:
                with contextlib.suppress(Exception):
                    await stalled.close()
            await store.close()
