"""A connection held open between transactions, for a caller that runs them one after another.

The group commit and a worker's batched claims each run a small transaction many times a second.
Through the pool each would pay a checkout, its ping (on PostgreSQL a BEGIN and an empty query),
and a ROLLBACK when the connection goes back: three round trips beside a transaction of one or
two statements (`bench cluster`, pg_stat_statements: 1.6 BEGINs and 0.5 ROLLBACKs per order).
After any failure the connection is invalidated, never handed back, and the next transaction
starts on a fresh one; the caller's retry loop decides whether to try again. Transactions asked
for at once take turns: one connection carries one transaction at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

T = TypeVar("T")

# On PostgreSQL, every statement run on a kept connection finds its rows by key, so the planner is
# told so: no sequential scan where an index will do (`enable_seqscan = off` only makes a scan the
# last resort). A prepared statement's plan is then made once per connection and kept (a generic
# plan). Made while the table was small or never analysed (a new database, a server without
# autovacuum), a generic plan used to scan every order in every batch, a cost that grew with the
# table; so every execution was planned afresh (`force_custom_plan`), which `pg_stat_statements`
# (`track_planning`) showed costing more than the statements themselves: 0.3 ms a group commit,
# 0.38 ms a claim, and each foreign-key check of a log line planned again. The connection is never
# handed back to the pool, so the settings stay with it.
_POSTGRES_SETUP = "SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off"
# asyncpg's errors for a connection that is gone (not a statement the server refused).
_DRIVER_DISCONNECTS = frozenset({"InterfaceError", "PostgresConnectionError"})


class KeptConnection:
    def __init__(self, engine: AsyncEngine, turn: asyncio.Lock | None = None) -> None:
        """`turn`, shared by kept connections whose transactions must never overlap (SQLite's writers)."""
        self.engine = engine
        self._connection: AsyncConnection | None = None
        self._driver: Any = None  # PostgreSQL: the asyncpg connection under `_connection`
        self._turn = turn or asyncio.Lock()

    async def run(self, work: Callable[..., Awaitable[T]], *args: Any) -> T:
        """`work(connection, *args)` in one transaction on the kept connection."""
        async with self._turn:
            if self._connection is None:
                self._connection = await self._open()
            connection = self._connection
            try:
                async with connection.begin():
                    return await work(connection, *args)
            except BaseException as error:
                await self.drop()
                raise _as_disconnect(error) from error

    async def run_on_driver(self, work: Callable[..., Awaitable[T]], *args: Any) -> T:
        """PostgreSQL: `work(driver, *args)` on the kept connection's asyncpg connection, as it is.

        For work that is one statement (atomic by itself) or opens asyncpg's own transaction: the
        group commit and the claims. SQLAlchemy's transaction around it did nothing on the server
        (its asyncpg adapter begins only when it executes something itself) but cost three greenlet
        switches a transaction (begin, the raw connection, commit): 1.3 % of a cluster worker (py-spy).
        """
        async with self._turn:
            if self._connection is None:
                self._connection = await self._open()
            try:
                return await work(self._driver, *args)
            except BaseException as error:
                await self.drop()
                raise _as_disconnect(error) from error

    async def _open(self) -> AsyncConnection:
        try:
            connection = await self.engine.connect()
        except BaseException as error:
            raise _as_disconnect(error) from error
        if self.engine.dialect.name == "postgresql":
            try:
                driver: Any = (await connection.get_raw_connection()).driver_connection
                await driver.execute(_POSTGRES_SETUP)
                self._driver = driver
            except BaseException as error:
                await connection.invalidate()
                await connection.close()
                raise _as_disconnect(error) from error
        return connection

    @property
    def is_open(self) -> bool:
        return self._connection is not None

    async def reset(self) -> None:
        """Close the kept connection once its current transaction is done (the next one opens afresh)."""
        async with self._turn:
            await self.drop()

    async def drop(self) -> None:
        connection, self._connection = self._connection, None
        self._driver = None
        if connection is not None:
            try:
                await connection.invalidate()
                await connection.close()
            except Exception:  # noqa: BLE001 - a connection already gone has nothing left to close
                pass


def _as_disconnect(error: BaseException) -> BaseException:
    """A raw socket or driver error (not wrapped by SQLAlchemy) as the dropped connection it is.

    The driver-level setup above and a connection cut mid-transaction raise asyncpg's and the
    socket's own errors (`Connection reset by peer`, `unexpected connection_lost() call`). The
    store's retry loop knows SQLAlchemy's errors only, so raw, each one failed its state changes
    for good: under a 6 s PostgreSQL outage a worker parked its jobs in BullMQ's `failed`. As an
    invalidated connection's error they are retried like any other lost connection.
    """
    if isinstance(error, DBAPIError) or not isinstance(error, Exception):
        return error
    raw = isinstance(error, OSError) or any(
        cls.__module__.startswith("asyncpg") and cls.__name__ in _DRIVER_DISCONNECTS for cls in type(error).__mro__
    )
    if not raw:
        return error
    return DBAPIError(None, None, error, connection_invalidated=True)
