"""The order store: group commit for state changes, plain queries for everything else.

Every state change goes through one writer task that commits whatever has queued up in a
single transaction (engine/storage/group_commit.py, with the statements of fast_write.py), then
wakes each waiting order. An order announces a change only after its `commit()` returns (or the
future `enqueue()` gave it resolves), so nothing is ever announced that is not stored. A locked
SQLite file or a dropped PostgreSQL connection makes every transaction here retry until it
lands; orders wait, none is lost. The queries are in reads.py, new orders in intake.py (own lane),
connecting in connect.py, the connections kept for the group commit and claims in kept_connection.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.account.model import Reservation
from engine.model.domain import Order
from engine.storage import account_store, change_feed, migrate
from engine.storage.changes import Change, DatabaseMissing, StorageUnavailable
from engine.storage.connect import engine_for, one_line, stop_creating
from engine.storage.errors import is_transient, permanent_problem, refuse_foreign_tables
from engine.storage.fast_write import BatchResult, write_postgres, write_sqlite
from engine.storage.file_identity import FileWatch
from engine.storage.group_commit import CommitTimes, GroupCommit
from engine.storage.intake import Stored, store_new_orders
from engine.storage.kept_connection import KeptConnection
from engine.storage.postgres_url import ensure_schema, postgres_options
from engine.storage.sqlite_lock import LockLost, LockWatch
from engine.storage.store_reads import StoreReads

log = logging.getLogger(__name__)

T = TypeVar("T")
# A unit of work run in one transaction: `work(connection, *args)`.
Work = Callable[..., Awaitable[T]]

_RETRY_DELAYS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)


class OrderStore(StoreReads):
    def __init__(self, url: str, owner_id: str = "") -> None:
        self.url = url
        # Every state change is written only while this owner holds the order (see fast_write).
        self.owner_id = owner_id
        self.schema_revision: str | None = None
        self.upgraded_from: str | None = None
        # Change sequences this store's own transactions took, so the change feed skips them.
        self.own_change_seqs: set[int] = set()
        self._settling = False  # the last group commit settled the paper account: the next one expects to
        self.engine = engine_for(url)
        self.dialect = self.engine.dialect.name
        self._group = GroupCommit(self._write)
        # SQLite has one writer at a time per file: this process's writers take turns here rather
        # than in SQLite's busy wait, whose 2 s ran out under load when an intake batch's transaction
        # was stretched by a busy loop ("database is locked" from a lone `run`). PostgreSQL writes
        # rows, not the file: there the lanes stay apart, so new orders never wait behind the group commit.
        turn = asyncio.Lock() if self.dialect == "sqlite" else None
        self._writer = KeptConnection(self.engine, turn)  # the group commit's
        self._serial = KeptConnection(self.engine, turn)  # run_serially's
        self._intake = KeptConnection(self.engine, turn)  # new orders' own lane (intake.py)
        self._in_flight = 0
        self.retries = 0  # transactions retried through a lock or a lost connection, for diagnostics
        self.last_error: str | None = None
        self.notices: list[str] = []  # things the user should hear once, e.g. a schema created
        # Set when the database refused for good (read-only, damaged, not ours): nothing will land.
        self.fatal: StorageUnavailable | None = None
        self.broken = asyncio.Event()
        self._file = FileWatch(url)
        self._lock = LockWatch(url)
        self._reopening = asyncio.Lock()
        self._create = True

    @property
    def busy(self) -> bool:
        """True while a database round trip is under way (the virtual clock must not jump past it)."""
        return self._in_flight > 0 or self._group.pending > 0

    @property
    def commit_times(self) -> CommitTimes:
        """The group commits made so far and what they cost, for diagnostics and benchmarks."""
        return self._group.times

    @property
    def display_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    async def open(self, *, create: bool = True) -> None:
        """Connect, and bring the schema to this code's head (building or upgrading it as needed).

        Read-only commands pass create=False: a missing SQLite file or PostgreSQL schema is then
        reported, not made (`info` on a mistyped path must not leave an empty database there).
        """
        self._create = create
        stale = self._file.stale_log()
        if not create and not self._file.exists():
            await self.engine.dispose()
            missing = f"database {self.display_url} does not exist (submit, run or the desk create it)"
            raise DatabaseMissing(f"{missing}; {stale}" if stale else missing)
        if stale is not None:  # about to create the file: not over a log that may hold the last commits
            await self.engine.dispose()
            raise StorageUnavailable(stale)
        try:
            await self._while_opening(self._prepare)
            revision: str | None = await self._while_opening(self._read_revision)
            if revision != migrate.head_revision():
                self.upgraded_from = await self._with_retries(self._upgrade)
            self.schema_revision = migrate.head_revision()
        except StorageUnavailable:
            await self.engine.dispose()
            raise
        except Exception as error:
            await self.engine.dispose()
            problem = (
                permanent_problem(error, self.url) or f"cannot open database {self.display_url}: {one_line(error)}"
            )
            raise StorageUnavailable(problem) from error
        self._file.remember()
        stop_creating(self.engine)
        self._group.start()

    async def _prepare(self, connection: AsyncConnection) -> None:
        """Before the migrations: the PostgreSQL schema exists, and the tables found are dexdesk's."""
        schema = postgres_options(make_url(self.url))[2] if self.dialect == "postgresql" else None
        if schema and await ensure_schema(connection, schema, create=self._create):
            self.notices.append(f"created PostgreSQL schema {schema!r} (it did not exist)")
        await connection.run_sync(refuse_foreign_tables, self.display_url)

    async def _while_opening(self, work: Any) -> Any:
        """A step of opening, retried a few times only: a database that cannot be reached at all is
        reported at once, while a connection dropped mid-answer (a lost acknowledgement) is tried again,
        and so is a SQLite file locked by another process building or upgrading its schema (SQLite can
        answer "locked" at once, without its busy wait, when two connections would otherwise deadlock).
        Both steps are safe to repeat (the schema is created only if missing; the revision is a read)."""
        for delay in (*_RETRY_DELAYS_S, None):
            try:
                return await self._run(work)
            except (OperationalError, DBAPIError) as error:
                dropped = isinstance(error, DBAPIError) and error.connection_invalidated
                locked = self.dialect == "sqlite" and is_transient(error, self.url)
                if delay is None or not (dropped or locked):
                    raise
                await asyncio.sleep(delay)
        return None

    async def _read_revision(self, connection: AsyncConnection) -> str | None:
        revision: str | None = await connection.run_sync(migrate.current_revision)
        return revision

    async def _upgrade(self, connection: AsyncConnection) -> str:
        before: str = await connection.run_sync(migrate.upgrade)
        if before not in ("empty", migrate.head_revision()):
            log.warning("database %s upgraded from %s to schema %s", self.display_url, before, migrate.head_revision())
        return before

    async def flush(self) -> None:
        """Wait until every queued state change has been written (or refused)."""
        await self._group.flush()

    async def close(self) -> None:
        await self._group.close()
        await self._drop_kept_connections()
        await self.engine.dispose()

    async def _run(self, work: Work[T], *args: Any) -> T:
        """Run `work(connection, *args)` in one transaction, counted as real work in flight."""
        self._in_flight += 1
        try:
            async with self.engine.begin() as connection:
                return await work(connection, *args)
        finally:
            self._in_flight -= 1

    async def _run_on_writer_connection(self, work: Work[T], *args: Any) -> T:
        """`_run` for the group commit, on its kept connection (see kept_connection)."""
        return await self._run_kept(self._writer, work, *args)

    async def run_serially(self, work: Work[T], *args: Any, on_driver: bool = False) -> T:
        """`_run` on a second kept connection, for a caller that runs one such transaction at a time
        many times a second (a worker's batched claims): retried like every transaction here.
        `on_driver` (PostgreSQL): `work(driver, *args)`, outside SQLAlchemy's transaction (kept_connection)."""
        return await self._with_retries(work, *args, run=partial(self._run_kept, self._serial, on_driver=on_driver))

    async def _run_kept(self, kept: KeptConnection, work: Work[T], *args: Any, on_driver: bool = False) -> T:
        self._in_flight += 1
        try:
            return await (kept.run_on_driver if on_driver else kept.run)(work, *args)
        finally:
            self._in_flight -= 1

    async def _drop_kept_connections(self) -> None:
        await self._writer.drop()
        await self._serial.drop()
        await self._intake.drop()

    # -- writes ---------------------------------------------------------------------------

    async def insert(
        self, new_orders: Sequence[Order], reservations: Sequence[Reservation] = ()
    ) -> list[tuple[Order, bool]]:
        """Store new orders, owned by this store's owner, in one transaction; idempotent per order id.

        Returns each order as stored and whether this call (or an earlier try of it whose commit
        acknowledgement was lost) created it. An id already stored by someone else comes back as
        stored, with False: nothing is written for it.

        With a paper account, the same transaction reserves what the new orders may spend; a
        shortfall raises `Shortfall` (an InvalidOrder) and nothing is stored.
        """
        if not new_orders:
            return []
        stored: Stored = await self._with_retries(
            store_new_orders, new_orders, reservations, self.owner_id, run=self._run_on_intake_connection
        )
        results, mark = stored
        self.own_change_seqs.add(mark)
        return results

    async def _run_on_intake_connection(self, work: Work[T], *args: Any) -> T:
        """`_run` for new orders, on their own kept connection: never behind the group commit's batch."""
        return await self._run_kept(self._intake, work, *args)

    async def commit(self, change: Change) -> None:
        """Queue a state change for the next group commit and wait until it is durable."""
        await self.enqueue(change)

    def enqueue(self, change: Change) -> asyncio.Future[None]:
        """Queue a state change for the next group commit; the future resolves once it is durable.

        Lets an order go on with work that has no outside effect while its change is being
        written; whatever announces the change waits for the future first.
        """
        return self._group.enqueue(change)

    async def _write(self, batch: list[Change]) -> BatchResult:
        """One group commit, retried until it lands, on the connection kept for the writer."""
        result: BatchResult
        if self.dialect == "postgresql":
            writer = partial(self._run_kept, self._writer, on_driver=True)
            result = await self._with_retries(self._write_on_driver, batch, run=writer)
        else:
            result = await self._with_retries(self._write_batch, batch, run=self._run_on_writer_connection)
        self.own_change_seqs.update(result.change_seqs)
        self._settling = result.settled
        return result

    async def _write_on_driver(self, driver: Any, batch: list[Change]) -> BatchResult:
        """One PostgreSQL group commit on the writer's asyncpg connection (see fast_write)."""
        return await write_postgres(driver, batch, self.owner_id, settling=self._settling)

    async def _write_batch(self, connection: AsyncConnection, batch: list[Change]) -> BatchResult:
        """One group commit's rows, on the driver connection under the caller's transaction (see fast_write)."""
        driver = (await connection.get_raw_connection()).driver_connection
        if self.dialect == "postgresql":
            return await self._write_on_driver(driver, batch)
        return await write_sqlite(driver, batch, self.owner_id)

    async def bump_change_seq(self, connection: AsyncConnection) -> int:
        """The change feed's mark for an insert or a cancel, taken first in its transaction (see change_feed)."""
        seq = await change_feed.mark_one_off(connection)
        self.own_change_seqs.add(seq)
        return seq

    async def transaction(self, work: Work[T], *args: Any) -> T:
        """Run `work(connection, *args)` in one transaction that lands whole or not at all.

        The way for code outside the store (ownership, the rate window) to run its own statements with
        the store's guarantees: a locked SQLite file or a dropped PostgreSQL connection is waited out
        and the transaction retried, so `work` must be safe to run again from the start; a permanent
        problem (read-only, damaged, not dexdesk's) breaks the store and raises StorageUnavailable.
        """
        return await self._with_retries(work, *args)

    async def _with_retries(self, work: Work[T], *args: Any, run: Callable[..., Awaitable[T]] | None = None) -> T:
        """Retry a transaction through locks and dropped connections; it either lands whole or not at all."""
        attempt = 0
        while True:
            try:
                self._file.check()
                if self._lock.lost:
                    await self._reopen()
                result = await (run or self._run)(self._checked(work), *args)
                self.last_error = None
                return result
            except LockLost as lost:
                # Rolled back before its commit: nothing went into a WAL another process may delete.
                self.last_error = str(lost)
                self.retries += 1
                log.error("%s", lost)
                attempt += 1
                if attempt > 1:  # a connection still open elsewhere in the process kept SQLite's old belief
                    await asyncio.sleep(_RETRY_DELAYS_S[min(attempt, len(_RETRY_DELAYS_S) - 1)])
            except (OperationalError, DBAPIError) as error:
                if not is_transient(error, self.url):
                    self._file_replaced_under(error)
                    problem = permanent_problem(error, self.url)
                    if problem is None:
                        raise
                    self._break(StorageUnavailable(problem))
                    raise self.fatal from error  # type: ignore[misc]
                self.last_error = one_line(error)  # a deadlock's DETAIL lines would break the log line
                self.retries += 1
                delay = _RETRY_DELAYS_S[min(attempt, len(_RETRY_DELAYS_S) - 1)]
                log.warning("database busy or unreachable (%s); retrying in %.2f s", self.last_error, delay)
                attempt += 1
                self._in_flight += 1  # waiting on the database is real work, not simulated time
                try:
                    await asyncio.sleep(delay)
                finally:
                    self._in_flight -= 1
            except StorageUnavailable as problem:
                self._break(problem)
                raise

    def _file_replaced_under(self, error: BaseException) -> None:
        """A driver error because the SQLite file was replaced or deleted mid-transaction: say that, once.

        The error SQLite gives then ("disk I/O error", "readonly database" and kin) names no cause and
        came out as a traceback in about one run in four of the file-replaced fault test under load; the
        file's identity is the cause, and the same one line the next transaction would have said.
        """
        try:
            self._file.check()
        except StorageUnavailable as problem:
            self._break(problem)
            raise problem from error

    def _checked(self, work: Work[T]) -> Work[T]:
        """`work`, then the lock check, inside the transaction: a lost lock rolls it back uncommitted."""

        async def checked(connection: AsyncConnection, *args: Any) -> T:
            result = await work(connection, *args)
            self._lock.check()
            return result

        return checked

    def check_lock(self) -> str | None:
        """The between-transactions look (a status line polls it): with a connection open the process
        must hold the lock. Says what happened once it is found lost; the next
        transaction reopens before it writes."""
        if self._lock.lost or not self._has_open_connection():
            return None
        try:
            self._lock.check()
        except LockLost as lost:
            self.last_error = str(lost)
            log.error("%s", lost)
            return str(lost)
        return None

    def _has_open_connection(self) -> bool:
        """A connection known to be open now (a kept one, or one resting in the pool), so the lock must be held."""
        resting = getattr(self.engine.pool, "checkedin", None)
        kept = self._writer.is_open or self._serial.is_open or self._intake.is_open
        return kept or (callable(resting) and resting() > 0)

    @property
    def lock_losses(self) -> int:
        """How many times this process was found without its SQLite lock (and reopened)."""
        return self._lock.losses

    async def _reopen(self) -> None:
        """Close every connection of this store, so SQLite forgets the lock it believes it holds and the
        next connection takes it afresh (a new connection beside an old one would not: measured)."""
        async with self._reopening:
            if not self._lock.lost:
                return
            await self._writer.reset()
            await self._serial.reset()
            await self._intake.reset()
            await self.engine.dispose()
            self._lock.lost = False
            log.warning("database %s reopened after its lock was lost", self.display_url)

    def _break(self, problem: StorageUnavailable) -> None:
        if self.fatal is None:
            self.fatal = problem
            self.broken.set()

    async def reset_account(
        self, balances: dict[str, Decimal], now: datetime, market: dict[str, str] | None = None
    ) -> None:
        """Start the paper account over with these balances in this market (see account_store.reset)."""

        async def work(connection: AsyncConnection) -> None:
            await account_store.reset(connection, balances, now, market)

        await self._with_retries(work)
