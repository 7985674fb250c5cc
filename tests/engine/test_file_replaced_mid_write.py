"""A driver error inside a transaction whose SQLite file was replaced meanwhile is reported as the replacement."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.storage import OrderStore, StorageUnavailable


async def test_an_error_after_the_file_was_replaced_mid_transaction_says_replaced(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    store = OrderStore(f"sqlite+aiosqlite:///{path}")
    await store.open()
    other = OrderStore(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
    await other.open()
    await other.close()

    async def replaced_then_failed(_connection: AsyncConnection) -> None:
        # Another program moves its own file over ours while this transaction runs: a connection
        # opened on the new file meets rows that are not ours, and its error names no cause (the
        # fault test saw a traceback about one run in four).
        (tmp_path / "other.db").rename(path)
        raise IntegrityError("INSERT", None, sqlite3.IntegrityError("UNIQUE constraint failed: order_logs.idx"))

    try:
        with pytest.raises(StorageUnavailable, match="replaced by another file"):
            await store.transaction(replaced_then_failed)
        assert store.fatal is not None, "the store stops writing: nothing goes where nobody reads it"
    finally:
        await store.close()
