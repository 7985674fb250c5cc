"""Starts and stops what app/assembly.py builds: the engine with its Redis mirror, and storage for reads."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TypeVar

from app.assembly import build_engine
from engine.config.settings import Settings
from engine.listeners.mirror import RedisMirror
from engine.listeners.mirror_state import MirrorState
from engine.runtime.engine import Engine
from engine.storage import OrderStore, StorageUnavailable, ownership

T = TypeVar("T")


def build_mirror(settings: Settings) -> RedisMirror | None:
    """The Redis mirror for external listeners, when a Redis URL is set (else None)."""
    if not settings.redis_url:
        return None
    return RedisMirror(settings.redis_url, namespace=settings.redis_prefix)


def start_mirror(
    engine: Engine, settings: Settings, on_state: Callable[[MirrorState], None] | None = None
) -> RedisMirror | None:
    """Mirror a just-started engine to Redis; call it right after `await engine.start()`, with no await between.

    The desk passes `lambda state: status_bar.set_mirror_state(state.text)`; stop it with
    `await mirror.stop()` after the engine has stopped, so a clean stop's last states still go out.
    """
    mirror = build_mirror(settings)
    if mirror is None:
        return None
    if on_state is not None:
        mirror.on_state(on_state)
    mirror.attach(engine)
    mirror.adopt(engine.active_orders())
    mirror.repair_from(engine.order)
    mirror.start()
    return mirror


def _tell_once(store: OrderStore) -> None:
    """What the store did on the user's behalf that they should know (e.g. created a schema)."""
    for notice in store.notices:
        print(f"dexdesk: {notice}", file=sys.stderr)


async def within_lock_wait(store: OrderStore, bound_s: float, work: Awaitable[T]) -> T:
    """`work`, given up after `bound_s` on SQLite while another process's write holds the file.

    A SQLite writer stalled inside its transaction (SIGSTOP, a frozen VM) cannot be broken from
    outside: `cancel` and `resume` retried "database is locked" until killed. They now give up
    after one lease with one line (StorageUnavailable, exit status 2) naming who may hold it.
    PostgreSQL needs no such bound: its sessions time out (see engine/storage/connect.py).
    """
    if store.dialect != "sqlite":
        return await work
    try:
        return await asyncio.wait_for(work, bound_s)
    except TimeoutError:
        raise LockWaitExceeded(await _lock_holder_line(store, bound_s)) from None


class LockWaitExceeded(StorageUnavailable):
    """A SQLite file stayed locked by another process's write for longer than the bound (one line)."""


async def _lock_holder_line(store: OrderStore, waited_s: float) -> str:
    why = store.last_error or "database is locked"
    try:
        listed = await ownership.owners_listed(store)
    except Exception:  # noqa: BLE001  (the line is still said, without names)
        listed = []
    if listed:
        now = datetime.now(UTC)
        holders = ", ".join(
            f"{owner} (lease {'ends in' if until >= now else 'ended'} {abs((until - now).total_seconds()):.0f} s"
            f"{'' if until >= now else ' ago'})"
            for owner, until in listed[:3]
        )
        who = f"processes holding orders in it (host:pid:tag): {holders}"
    else:
        who = "no dexdesk process holds orders in it (another program may be writing it)"
    return (
        f"gave up after {waited_s:g} s: {store.display_url} stays locked by another process's unfinished write "
        f"({why}); {who}; end or continue that process, then try again"
    )


@asynccontextmanager
async def running_engine(
    settings: Settings,
    *,
    on_mirror_state: Callable[[MirrorState], None] | None = None,
    lock_wait_s: float | None = None,
) -> AsyncIterator[Engine]:
    """An engine that has resumed every unfinished order, mirrored to Redis if a URL is set; stopped cleanly.

    `lock_wait_s`: on SQLite, give up starting after that long behind another process's write (see
    `within_lock_wait`); storage is closed and StorageUnavailable raised.
    """
    engine = build_engine(settings)
    if lock_wait_s is None:
        await engine.start()
    else:
        try:
            await within_lock_wait(engine.store, lock_wait_s, engine.start())
        except LockWaitExceeded:
            await engine.stop(interrupted=True)  # hands back what it claimed if it can, within 1 s
            raise
    _tell_once(engine.store)
    mirror = start_mirror(engine, settings, on_mirror_state)
    try:
        yield engine
    finally:
        # Ctrl-C or SIGTERM cancelled the command (even if it caught that to choose its exit status):
        # stop within 2 s, leaving the attempts in flight to `resume`.
        task = asyncio.current_task()
        interrupted = task is not None and task.cancelling() > 0
        await engine.stop(interrupted=interrupted)
        if mirror is not None:
            await mirror.stop(flush_timeout_s=0.5 if interrupted else 2.0)
            if (line := mirror.unflushed_line()) is not None:
                print(f"dexdesk: {line}", file=sys.stderr, flush=True)


@asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[OrderStore]:
    """Storage alone, for commands that only read (list, show, export, info): never creates a database."""
    store = OrderStore(settings.database_url)
    await store.open(create=False)
    try:
        yield store
    finally:
        await store.close()
