"""A group commit the server refuses for now (a lock timeout, a deadlock) is tried again, not lost.

The group commit goes to asyncpg directly (engine/storage/fast_write.py). Before
engine/storage/driver_errors.py the server's refusals reached the store's retry loop raw and were
never retried: two cluster workers whose commits deadlocked each failed a whole batch, logged a
traceback and sent every order in it back to the queue. Real PostgreSQL schemas.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import pytest

from engine.model.domain import LogEntry, Order, OrderStatus
from engine.model.log_kinds import LogKind
from engine.storage import Change, OrderStore
from tests.conftest import insert_owned, postgres_schema
from tests.faults.support import eventually
from tests.services import POSTGRES_ADMIN_URL


def _routing(order: Order) -> Change:
    entry = LogEntry(order.updated_at, OrderStatus.ROUTING, LogKind.ATTEMPT_STARTED, "attempt 1", {"attempt": 1})
    return Change(
        order.evolve(status=OrderStatus.ROUTING, attempts=1, version=order.version + 1, logs=(*order.logs, entry)),
        [entry],
    )


async def test_a_commit_behind_a_stalled_row_lock_is_retried_past_its_lock_timeout_and_lands(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with postgres_schema() as url:
        store = OrderStore(url, owner_id="writer")
        await store.open()
        blocker = await asyncpg.connect(POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            orders = await insert_owned(store, 3)
            schema = url.rpartition("schema=")[2]
            held = blocker.transaction()
            await held.start()
            # Another session stalls holding the middle order's row, as a SIGSTOPped process would.
            await blocker.execute(f'SELECT 1 FROM "{schema}".orders WHERE id = $1 FOR UPDATE', orders[1].id)
            with caplog.at_level(logging.WARNING):
                stored = [store.enqueue(_routing(order)) for order in orders]
                await eventually(lambda: store.retries >= 1, "the commit to retry past the lock timeout", within=20)
                assert not any(future.done() for future in stored), "nothing is announced before it is stored"
                await held.rollback()
                results = await asyncio.wait_for(asyncio.gather(*stored, return_exceptions=True), 20)
            after = [await store.get(order.id) for order in orders]
        finally:
            await blocker.close()
            await store.close()
    assert results == [None, None, None]
    assert [(order.status, order.version) for order in after if order is not None] == [(OrderStatus.ROUTING, 1)] * 3
    assert "lock timeout" in caplog.text
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR], "no traceback, no error"
    assert all("\n" not in record.getMessage() for record in caplog.records), "each warning is one line"
