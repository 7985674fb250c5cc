"""Scratch databases for benches: a temporary SQLite file, or a fresh PostgreSQL schema dropped afterwards."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from engine.model.domain import LogEntry, Order, OrderStatus, Route, Venue
from engine.model.log_kinds import LogKind
from engine.storage import OrderStore
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog


@asynccontextmanager
async def scratch_database(base_url: str | None) -> AsyncIterator[str]:
    """A URL for an empty database that is gone when the block ends.

    No URL: a SQLite file in a temporary folder. A SQLite URL: a new file in a temporary folder
    beside the URL's file (same disk, so the same speed), never the file itself: a bench writes
    thousands of fake orders. A PostgreSQL URL: a new schema `bench_<random>` in that database,
    dropped with everything in it.
    """
    if base_url is None:
        with tempfile.TemporaryDirectory(prefix="dexdesk-bench-") as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        return
    url = make_url(base_url)
    if url.get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory(prefix=".dexdesk-bench-", dir=_folder_of(url.database)) as folder:
            yield url.set(database=str(Path(folder) / "bench.db")).render_as_string(hide_password=False)
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    dsn = url.difference_update_query(["schema"]).set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await admin.close()
    try:
        yield url.update_query_dict({"schema": schema}).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(dsn)
        try:
            await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await admin.close()


@asynccontextmanager
async def filled_store(base_url: str | None, count: int) -> AsyncIterator[tuple[OrderStore, float]]:
    """A scratch database holding `count` finished orders, open, and the seconds filling it took."""
    async with scratch_database(base_url) as url:
        store = OrderStore(url)
        await store.open()
        try:
            started = time.perf_counter()
            await fill(store, count)
            yield store, time.perf_counter() - started
        finally:
            await store.close()


def _folder_of(database: str | None) -> str:
    return os.path.dirname(os.path.abspath(os.path.expanduser(database or "bench.db")))


def finished_orders(count: int, *, seed: int = 0) -> list[Order]:
    """`count` CONFIRMED orders with the fields and a short log a real run leaves, made without running them."""
    start = datetime(2025, 12, 12, 10, 0, tzinfo=UTC)
    orders = []
    for index, request in enumerate(random_requests(default_catalog(), count, seed=seed)):
        created = start + timedelta(milliseconds=index)
        done = created + timedelta(seconds=3, milliseconds=index % 997)
        price = Decimal("148.9312") + Decimal(index % 1000) / 1000
        venue = Venue.RAYDIUM if index % 2 else Venue.METEORA
        signature = (f"{index:0>12}" + "5J7K8L9MnPqRsTuVwXyZ" * 4)[:88]  # a Solana signature is 87-88 chars
        pending = request.to_order(created)
        confirmed = LogEntry(
            done,
            OrderStatus.CONFIRMED,
            LogKind.CONFIRMED,
            f"confirmed on {venue}: executed at {price}",
            {"txHash": signature, "executionPrice": price},
        )
        orders.append(
            pending.evolve(
                status=OrderStatus.CONFIRMED,
                updated_at=done,
                dex=venue,
                execution_price=price,
                tx_hash=signature,
                attempts=1,
                logs=(*pending.logs, confirmed),
                route=Route(venue, price, signature),
            )
        )
    return orders


async def fill(store: OrderStore, count: int, *, batch: int = 5000) -> None:
    """Store `count` finished orders through the storage layer in large batches (fast, and the real rows)."""
    for first in range(0, count, batch):
        await store.insert(finished_orders(min(batch, count - first), seed=first))
