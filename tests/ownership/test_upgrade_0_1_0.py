"""A database written by dexdesk 0.1.0 opens, is upgraded in place, keeps every order and log, and resumes.

The databases are kept as SQL text under tests/data: `sqlite3 .dump` and `pg_dump --inserts` of
what the 0.1.0 code (commit 7331d1c) wrote: ten orders run to CONFIRMED/FAILED, then five more
left by a SIGKILL in PENDING and SUBMITTED.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest

from engine.model.domain import OrderStatus
from engine.model.log_kinds import LogKind
from engine.reporting.reports import export_csv, write_csv
from engine.storage import OrderStore
from engine.storage.migrate import head_revision
from tests.conftest import _pg_dsn, postgres_schema, running

DATA = Path(__file__).resolve().parents[1] / "data"
FINISHED = 10
IN_FLIGHT = 5


@pytest.fixture(params=["sqlite", "postgres"])
async def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "dexdesk-0.1.0.db"
        with sqlite3.connect(path) as connection:
            connection.executescript((DATA / "dexdesk_0_1_0.sqlite.sql").read_text(encoding="utf-8"))
        yield f"sqlite+aiosqlite:///{path}"
        return
    async with postgres_schema() as url:
        schema = url.rsplit("schema=", 1)[1]
        connection = await asyncpg.connect(_pg_dsn(), server_settings={"search_path": schema})
        try:
            await connection.execute((DATA / "dexdesk_0_1_0.postgres.sql").read_text(encoding="utf-8"))
        finally:
            await connection.close()
        yield url


async def test_a_0_1_0_database_is_upgraded_in_place_keeps_every_order_and_resumes_the_unfinished(
    old_database: str,
) -> None:
    store = OrderStore(old_database)
    await store.open()
    try:
        assert store.upgraded_from == "0.1.0"
        assert store.schema_revision == head_revision()
        before = {order.id: order for order in await store.list_orders()}
        logs_before = {order_id: (await store.get(order_id)).logs for order_id in before}  # type: ignore[union-attr]
    finally:
        await store.close()
    assert len(before) == FINISHED + IN_FLIGHT
    assert sum(1 for order in before.values() if order.is_terminal) == FINISHED
    # Every 0.1.0 log line got a kind read from what it recorded.
    kinds = {entry.kind for entries in logs_before.values() for entry in entries}
    assert {LogKind.RECEIVED, LogKind.ATTEMPT_STARTED, LogKind.QUOTE, LogKind.ROUTE_CHOSEN, LogKind.SUBMITTED} <= kinds
    assert LogKind.NOTE not in kinds

    async with running(old_database) as engine:
        assert engine.resumed == IN_FLIGHT
        await engine.wait_idle()
        executions = await engine.store.executions()
        for order_id, old in before.items():
            order = await engine.order(order_id)
            assert order is not None
            assert order.is_terminal
            # The log kept every line it had, and only grew.
            assert order.logs[: len(logs_before[order_id])] == logs_before[order_id]
            if old.is_terminal:
                assert (order.status, order.tx_hash, order.attempts) == (old.status, old.tx_hash, old.attempts)
                assert len(order.logs) == len(logs_before[order_id])
            else:
                assert any(entry.kind == LogKind.RESUMED for entry in order.logs[len(logs_before[order_id]) :])
            assert executions.get(order_id, 0) == (1 if order.status is OrderStatus.CONFIRMED else 0)

    # Opening again changes nothing: the database is at the head revision.
    store = OrderStore(old_database)
    await store.open()
    try:
        assert store.upgraded_from is None
    finally:
        await store.close()


async def test_a_0_1_0_database_reports_the_same_figures_after_the_upgrade(old_database: str, tmp_path: Path) -> None:
    """The upgrade works out the stored figures of the orders 0.1.0 confirmed, as the report did from their routes."""
    store = OrderStore(old_database)
    await store.open()
    try:
        streamed = await export_csv(store, tmp_path / "streamed.csv")
        stored = [order async for chunk in store.stream() for order in chunk]
    finally:
        await store.close()
    assert streamed == len(stored) == write_csv(tmp_path / "from_orders.csv", stored) == FINISHED + IN_FLIGHT
    report = (tmp_path / "streamed.csv").read_bytes()
    assert report == (tmp_path / "from_orders.csv").read_bytes()
    confirmed = [line for line in report.decode("utf-8-sig").splitlines() if ",CONFIRMED," in line]
    assert confirmed
    assert all(not line.endswith(",,,,") for line in confirmed)


async def test_a_0_1_0_database_has_a_summary_of_every_order_after_the_upgrade(old_database: str) -> None:
    """The upgrade counts the stored finished orders into the totals; the resumed ones are added as they end."""
    async with running(old_database) as engine:
        before = await engine.summary()
        await engine.wait_idle()
        after = await engine.summary()
        stored = await engine.store.list_orders()
    assert before.total.orders == after.total.orders == FINISHED + IN_FLIGHT
    assert before.total.finished + before.total.cancelled == FINISHED
    assert after.total.active == 0
    confirmed = [order for order in stored if order.status is OrderStatus.CONFIRMED]
    assert after.total.confirmed == len(confirmed)
    assert after.total.failed == sum(order.status is OrderStatus.FAILED for order in stored)
    moved = sum((order.amount * order.execution_price for order in confirmed if order.execution_price), Decimal(0))
    assert abs(after.total.notional - moved) <= Decimal("0.000001") * len(confirmed)
    assert sum(venue.confirmed for venue in after.venues.values()) == len(confirmed)
    assert all(venue.confirm_p50_s is not None for venue in after.venues.values() if venue.confirmed)
