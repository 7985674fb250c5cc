"""Builds the engine and its storage from settings; every front end (CLI, desk, bench) starts here."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from app.settings import Settings
from engine.engine import Engine
from engine.mirror import MirrorState, RedisMirror
from engine.storage import OrderStore


def pick_seed(settings: Settings) -> int:
    """The seed the user gave, or a fresh one (so unseeded sessions differ, as markets do)."""
    return settings.seed if settings.seed is not None else secrets.randbelow(2**31)


def build_engine(settings: Settings) -> Engine:
    return Engine(OrderStore(settings.database_url), settings.engine(pick_seed(settings)))


def build_mirror(settings: Settings) -> RedisMirror | None:
    """The Redis mirror for external listeners, when a Redis URL is set (else None)."""
    if not settings.redis_url:
        return None
    return RedisMirror(settings.redis_url, namespace=settings.redis_prefix)


@asynccontextmanager
async def running_engine(
    settings: Settings, *, on_mirror_state: Callable[[MirrorState], None] | None = None
) -> AsyncIterator[Engine]:
    """An engine that has resumed every unfinished order; stopped cleanly on the way out.

    With a Redis URL the mirror listens from before the first update; it is stopped after the
    engine, so the last states of a clean stop still reach Redis if it is there.
    """
    engine = build_engine(settings)
    mirror = build_mirror(settings)
    if mirror is not None:
        mirror.attach(engine)
        if on_mirror_state is not None:
            mirror.on_state(on_mirror_state)
    await engine.start()
    if mirror is not None:
        mirror.adopt(engine.active_orders())
        mirror.start()
    try:
        yield engine
    finally:
        await engine.stop()
        if mirror is not None:
            await mirror.stop()


@asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[OrderStore]:
    """Storage alone, for commands that only read (list, show, export, info)."""
    store = OrderStore(settings.database_url)
    await store.open()
    try:
        yield store
    finally:
        await store.close()
