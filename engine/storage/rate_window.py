"""The rate limit's window, kept in the database so it holds per database, not per process.

Each admitted attempt start is a row in `attempt_starts`, written in the same transaction that
counts the window, under the database's write lock (PostgreSQL: a transaction-scoped advisory
lock; SQLite: the write lock its first write takes). So a process that restarts right after a
SIGKILL sees the starts its predecessor made, and two processes on one database share one
window: neither can admit a start the other has already used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.storage.schema import attempt_starts

# Epoch seconds as a float resolve to about 0.24 µs: a start leaves the window this much (a few ulps) after its
# minute, so that rounding can only admit a start a few microseconds late, never early.
MARGIN_S = 6e-7

if TYPE_CHECKING:
    from engine.storage.store import OrderStore


async def admit(store: OrderStore, now: float, window_s: float, max_starts: int) -> float | None:
    """Record a start at `now` (wall-clock seconds) if the window has room: returns None.

    Otherwise records nothing and returns when the earliest slot frees (wall-clock seconds).
    The window rule is the in-memory limiter's (`start + window > now` is still in the window),
    evaluated in Python, with `MARGIN_S` for the rounding of epoch seconds.
    """

    async def work(connection: AsyncConnection) -> float | None:
        if connection.dialect.name == "postgresql":
            lock = "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ' dexdesk-rate'))"
            await connection.execute(text(lock))
        # The prune is a write, so on SQLite it takes the write lock before the window is read.
        await connection.execute(delete(attempt_starts).where(attempt_starts.c.started_at < now - 2 * window_s))
        recent = (
            await connection.execute(
                select(attempt_starts.c.started_at)
                .where(attempt_starts.c.started_at > now - 2 * window_s)
                .order_by(attempt_starts.c.started_at)
            )
        ).scalars()
        in_window = [started for started in recent if started + window_s + MARGIN_S > now]
        if len(in_window) >= max_starts:
            return float(in_window[len(in_window) - max_starts] + window_s + MARGIN_S)
        await connection.execute(insert(attempt_starts).values(started_at=now))
        return None

    result: float | None = await store.transaction(work)
    return result
