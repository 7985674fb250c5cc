"""Builds the engine and its storage from settings; every front end (CLI, desk, bench) starts here."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.settings import Settings
from engine.engine import Engine
from engine.storage import OrderStore


def pick_seed(settings: Settings) -> int:
    """The seed the user gave, or a fresh one (so unseeded sessions differ, as markets do)."""
    return settings.seed if settings.seed is not None else secrets.randbelow(2**31)


def build_engine(settings: Settings) -> Engine:
    return Engine(OrderStore(settings.database_url), settings.engine(pick_seed(settings)))


@asynccontextmanager
async def running_engine(settings: Settings) -> AsyncIterator[Engine]:
    """An engine that has resumed every unfinished order; stopped cleanly on the way out."""
    engine = build_engine(settings)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()


@asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[OrderStore]:
    """Storage alone, for commands that only read (list, show, export, info)."""
    store = OrderStore(settings.database_url)
    await store.open()
    try:
        yield store
    finally:
        await store.close()
