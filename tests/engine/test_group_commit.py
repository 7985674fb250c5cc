"""The group-commit writer: pipelined changes of one order are stored in order, never past a failure."""

from __future__ import annotations

from typing import Any

import pytest

from app.bench.databases import finished_orders
from engine.model.domain import LogEntry, OrderStatus
from engine.model.log_kinds import LogKind
from engine.storage import Change, OrderStore, StorageFailure


async def test_a_change_queued_behind_one_that_failed_is_never_stored(sqlite_url: str) -> None:
    store = OrderStore(sqlite_url)
    await store.open()
    try:
        ((order, _created),) = await store.insert(finished_orders(1))
        write_batch = store._write_batch
        calls = 0

        async def fail_first(connection: Any, batch: list[Change]) -> None:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise RuntimeError("disk on fire")
            await write_batch(connection, batch)

        store._write_batch = fail_first  # type: ignore[method-assign]
        first_log = LogEntry(order.updated_at, OrderStatus.ROUTING, LogKind.NOTE, "first")
        first = Change(order.evolve(logs=(*order.logs, first_log)), [first_log])
        first_stored = store.enqueue(first)
        await store.flush()  # the first batch has failed before the next change is queued
        second_log = LogEntry(order.updated_at, OrderStatus.BUILDING, LogKind.NOTE, "second")
        second = Change(first.order.evolve(logs=(*first.order.logs, second_log)), [second_log], after=first)
        with pytest.raises(StorageFailure):
            await first_stored
        with pytest.raises(StorageFailure):
            await store.enqueue(second)
        assert calls == 1  # the second change never reached the database
        stored = await store.get(order.id)
        assert stored is not None
        assert [entry.message for entry in stored.logs] == [entry.message for entry in order.logs]
    finally:
        await store.close()
