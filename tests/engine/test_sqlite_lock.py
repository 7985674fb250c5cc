"""The store notices when this process lost its SQLite lock, writes nothing without it, and takes it back.

The loss is made the way Qt's file dialog made it (issue 24): a descriptor of the database file
opened and closed in the store's process. Whether the lock is held is asked from another process.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.bench.databases import finished_orders
from engine.storage import OrderStore
from engine.storage.report_reader import sqlite_file
from tests.lock_probe import lock_holders


def _drop_locks_like_a_file_dialog(database: Path) -> None:
    for name in (database.name, database.name + "-wal", database.name + "-shm"):
        os.close(os.open(database.with_name(name), os.O_RDONLY))


async def test_a_lost_lock_is_noticed_before_the_next_commit_and_taken_back(sqlite_url: str) -> None:
    database = sqlite_file(sqlite_url)
    assert database is not None
    store = OrderStore(sqlite_url)
    await store.open()
    try:
        await store.insert(finished_orders(1))
        assert lock_holders(database) == (os.getpid(), os.getpid())

        _drop_locks_like_a_file_dialog(database)
        assert lock_holders(database) == (0, 0)
        assert store.check_lock() is not None  # the status line's look says so at once
        assert "lost its lock" in (store.last_error or "")

        second = finished_orders(2)[1]
        await store.insert([second])
        assert lock_holders(database) == (os.getpid(), os.getpid())
        assert store.lock_losses == 1
        assert await store.get(second.id) is not None
        assert store.last_error is None
    finally:
        await store.close()


async def test_a_loss_between_looks_rolls_the_write_back_and_writes_it_after_reopening(sqlite_url: str) -> None:
    database = sqlite_file(sqlite_url)
    assert database is not None
    store = OrderStore(sqlite_url)
    await store.open()
    try:
        await store.insert(finished_orders(1))
        _drop_locks_like_a_file_dialog(database)
        orders = finished_orders(3)[1:]
        await store.insert(orders)  # no look in between: the commit's own check finds it
        assert store.lock_losses == 1
        assert lock_holders(database) == (os.getpid(), os.getpid())
        assert [await store.get(order.id) is not None for order in orders] == [True, True]
    finally:
        await store.close()
