"""Fault 3: the engine's PostgreSQL connections terminated mid-run (pg_terminate_backend).

The engine reconnects and finishes every order.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event

from engine.model.domain import OrderUpdate
from engine.runtime.engine import Engine, engine_settings
from engine.storage import OrderStore
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.conftest import postgres_schema
from tests.faults.support import TALLY, assert_nothing_lost, eventually
from tests.services import POSTGRES_ADMIN_URL

pytestmark = pytest.mark.postgres


async def _terminate(backends: set[int]) -> int:
    """Terminate exactly the engine's own backends (the server is shared; nobody else's are touched)."""
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await admin.fetch(
            "SELECT pid, pg_terminate_backend(pid) AS gone FROM pg_stat_activity WHERE pid = ANY($1::int[])",
            list(backends),
        )
    finally:
        await admin.close()
    return sum(1 for row in rows if row["gone"])


async def test_postgres_connections_dropped_mid_run() -> None:
    async with postgres_schema() as url:
        engine = Engine(OrderStore(url), engine_settings(time_scale=0.05, rate_limit=0, seed=13))
        backends: set[int] = set()

        def remember_backend(dbapi_connection: Any, _record: Any) -> None:
            backends.add(dbapi_connection.driver_connection.get_server_pid())

        event.listen(engine.store.engine.sync_engine, "connect", remember_backend)
        announced: list[OrderUpdate] = []
        engine.subscribe(announced.append)
        await engine.start()
        try:
            orders = await engine.submit_many(random_requests(default_catalog(), 40, seed=5))
            for round_, state in enumerate(("SUBMITTED", "CONFIRMED")):
                await eventually(lambda s=state: any(u.status == s for u in announced), f"an order to reach {state}")
                killed = await _terminate(set(backends))
                assert killed >= 1, "no engine connection to terminate"
                TALLY.fault(f"PostgreSQL backends terminated (round {round_ + 1}, {killed} connections)")
            more = await engine.submit_many(random_requests(default_catalog(), 10, seed=6))
            await asyncio.wait_for(engine.wait_idle(), 60)
            await assert_nothing_lost(engine.store, [order.id for order in orders + more])
        finally:
            await engine.stop()
