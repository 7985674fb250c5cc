"""Shared fixtures: isolated user directories, real SQLite files and real PostgreSQL schemas."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

from engine.model.domain import Order, utc_now
from engine.runtime.engine import Engine, EngineSettings, engine_settings
from engine.storage import OrderStore
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.figures import pytest_sessionfinish, pytest_terminal_summary, pytest_testnodedown  # noqa: F401 - hooks
from tests.services import POSTGRES_ADMIN_URL, require

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real user's data, settings or environment."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    for variable in ("DEXDESK_DB_URL", "DEXDESK_REDIS_URL", "DEXDESK_TIME_SCALE"):
        monkeypatch.delenv(variable, raising=False)


def _pg_dsn() -> str:
    return POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")


@asynccontextmanager
async def postgres_schema() -> AsyncIterator[str]:
    """A fresh schema for one test, dropped afterwards, so parallel runs never collide."""
    require("postgres")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    connection = await asyncpg.connect(_pg_dsn())
    try:
        await connection.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await connection.close()
    try:
        yield f"{POSTGRES_ADMIN_URL}?schema={schema}"
    finally:
        connection = await asyncpg.connect(_pg_dsn())
        try:
            await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await connection.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'orders.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Every storage-touching test runs on both databases."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'orders.db'}"
        return
    async with postgres_schema() as url:
        yield url


@asynccontextmanager
async def running(url: str, settings: EngineSettings | None = None) -> AsyncIterator[Engine]:
    """A started engine on a real database, stopped afterwards; time scale 0 unless told."""
    engine = Engine(OrderStore(url), settings or engine_settings(time_scale=0, rate_limit=0, seed=7))
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()


async def stored_orders(url: str) -> list[Order]:
    """Every order the database holds, read by a store of its own: what another process would find."""
    store = OrderStore(url)
    await store.open()
    try:
        return await store.list_orders(limit=None)
    finally:
        await store.close()


async def insert_owned(store: OrderStore, count: int, *, seed: int = 3) -> list[Order]:
    """`count` random orders stored PENDING and owned by `store`, as its engine would have stored them."""
    now = utc_now()
    fresh = [
        request.to_order(now).evolve(owner=store.owner_id)
        for request in random_requests(default_catalog(), count, seed=seed)
    ]
    return [order for order, _ in await store.insert(fresh)]
