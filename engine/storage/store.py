"""The order store: group commit for state changes, plain queries for everything else.

Every state change goes through one writer task that commits whatever has queued up in a
single transaction (`executemany`), then wakes each waiting order. An order announces a change
only after its `commit()` returns (or the future `enqueue()` gave it resolves), so nothing is
ever announced that is not stored; one order's changes are stored in order, and never past one
that failed. A locked SQLite file or a dropped PostgreSQL connection makes the writer retry the
same batch until it lands; orders wait, none is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import String, event, func, select, type_coerce
from sqlalchemy.engine import URL, Row, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from engine.account.model import Balance, Fill, Reservation
from engine.domain import Order, OrderStatus
from engine.storage import account_store, change_feed, migrate
from engine.storage.changes import Change, DatabaseMissing, OrderLost, StorageFailure, StorageUnavailable
from engine.storage.errors import is_transient, permanent_problem, refuse_foreign_tables
from engine.storage.fast_write import BatchResult, write_postgres, write_sqlite
from engine.storage.file_identity import FileWatch
from engine.storage.postgres_url import ensure_schema, postgres_options
from engine.storage.report_reader import REPORT_COLUMNS
from engine.storage.rows import log_from_row, log_rows, order_from_row, order_row, report_cells
from engine.storage.schema import ExactDecimal, UtcTimestamp, ledger, order_logs, orders
from engine.storage.summary import SummaryCounter, SummaryRows

_LARGE_PAGE = 2000  # rows; below this a thread hop costs more than it saves

log = logging.getLogger(__name__)

T = TypeVar("T")
# A unit of work run in one transaction: `work(connection, *args)`.
Work = Callable[..., Awaitable[T]]

_BATCH_LIMIT = 2000
_GATHER_TURNS = 8
_RETRY_DELAYS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer; NORMAL sync is durable across a process crash.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _engine_for(url: str) -> AsyncEngine:
    parsed: URL = make_url(url)
    connect_args: dict[str, Any] = {}
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StorageUnavailable(f"cannot create the database's folder {folder}: {error.strerror}") from None
        connect_args["timeout"] = 2.0
    elif parsed.get_backend_name() == "postgresql":
        parsed, connect_args, _schema = postgres_options(parsed)
        options.update(pool_pre_ping=True, pool_size=5, max_overflow=5)
    engine = create_async_engine(parsed, connect_args=connect_args, **options)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _one_line(error: BaseException) -> str:
    """The driver's own words, without SQLAlchemy's wrapper text and its 'Background on this error' line."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


class OrderStore:
    def __init__(self, url: str, owner_id: str = "") -> None:
        self.url = url
        # Every state change is written only while this owner holds the order (see fast_write).
        self.owner_id = owner_id
        self.schema_revision: str | None = None
        self.upgraded_from: str | None = None
        # Change sequences this store's own transactions took, so the change feed skips them.
        self.own_change_seqs: set[int] = set()
        self.engine = _engine_for(url)
        self.dialect = self.engine.dialect.name
        self._queue: asyncio.Queue[Change] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._writer_connection: AsyncConnection | None = None
        self._in_flight = 0
        self.commits = 0
        self.retries = 0  # transactions retried through a lock or a lost connection, for diagnostics
        self.last_error: str | None = None
        self.notices: list[str] = []  # things the user should hear once, e.g. a schema created
        # Set when the database refused for good (read-only, damaged, not ours): nothing will land.
        self.fatal: StorageUnavailable | None = None
        self.broken = asyncio.Event()
        self._file = FileWatch(url)
        self._create = True

    @property
    def busy(self) -> bool:
        """True while a database round trip is under way (the virtual clock must not jump past it)."""
        return self._in_flight > 0

    @property
    def display_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    async def open(self, *, create: bool = True) -> None:
        """Connect, and bring the schema to this code's head (building or upgrading it as needed).

        Read-only commands pass create=False: a missing SQLite file or PostgreSQL schema is then
        reported, not made (`info` on a mistyped path must not leave an empty database there).
        """
        self._create = create
        if not create and not self._file.exists():
            await self.engine.dispose()
            raise DatabaseMissing(f"database {self.display_url} does not exist (submit, run or the desk create it)")
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
                permanent_problem(error, self.url) or f"cannot open database {self.display_url}: {_one_line(error)}"
            )
            raise StorageUnavailable(problem) from error
        self._file.remember()
        self._writer = asyncio.create_task(self._write_forever(), name="dexdesk-storage-writer")

    async def _prepare(self, connection: AsyncConnection) -> None:
        """Before the migrations: the PostgreSQL schema exists, and the tables found are dexdesk's."""
        schema = postgres_options(make_url(self.url))[2] if self.dialect == "postgresql" else None
        if schema and await ensure_schema(connection, schema, create=self._create):
            self.notices.append(f"created PostgreSQL schema {schema!r} (it did not exist)")
        await connection.run_sync(refuse_foreign_tables, self.display_url)

    async def _while_opening(self, work: Any) -> Any:
        """A step of opening, retried a few times only: a database that cannot be reached at all is
        reported at once, while a connection dropped mid-answer (a lost acknowledgement) is tried again.
        Both steps are safe to repeat (the schema is created only if missing; the revision is a read)."""
        for delay in (*_RETRY_DELAYS_S[:3], None):
            try:
                return await self._run(work)
            except (OperationalError, DBAPIError) as error:
                if delay is None or not (isinstance(error, DBAPIError) and error.connection_invalidated):
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
        if self._writer is not None:
            await self._queue.join()

    async def close(self) -> None:
        if self._writer is not None:
            await self._queue.join()
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
            self._writer = None
        await self._drop_writer_connection()
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
        """`_run` for the group commit, on one connection kept open between batches.

        A pool checkout, its reset and (on PostgreSQL) its pre-ping cost more than a small batch's
        own statements; after any failure the next batch starts on a fresh connection.
        """
        self._in_flight += 1
        try:
            if self._writer_connection is None:
                self._writer_connection = await self.engine.connect()
            connection = self._writer_connection
            try:
                async with connection.begin():
                    return await work(connection, *args)
            except BaseException:
                await self._drop_writer_connection()
                raise
        finally:
            self._in_flight -= 1

    async def _drop_writer_connection(self) -> None:
        connection, self._writer_connection = self._writer_connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()
                await connection.close()

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

        async def work(connection: AsyncConnection) -> list[tuple[Order, bool]]:
            seq = await self.bump_change_seq(connection)
            ids = [order.id for order in new_orders]
            existing = await self._orders_by_id(connection, ids)
            fresh = [order for order in new_orders if order.id not in existing]
            if fresh:
                rows = [{**order_row(order), "change_seq": seq} for order in fresh]
                await connection.execute(orders.insert(), rows)
                logs = [row for order in fresh for row in log_rows(order.id, 0, order.logs)]
                if logs:
                    await connection.execute(order_logs.insert(), logs)
                existing.update(await self._orders_by_id(connection, [order.id for order in fresh]))
            created = {order.id for order in fresh}
            await account_store.reserve(connection, [item for item in reservations if item.order_id in created])
            results = []
            for order in new_orders:
                stored = existing[order.id]
                mine = order.id in created or (stored.owner == self.owner_id and stored.version == 0)
                results.append((stored if not mine else order.evolve(seq=stored.seq), mine))
            return results

        return await self._with_retries(work)

    async def _orders_by_id(self, connection: AsyncConnection, ids: Sequence[str]) -> dict[str, Order]:
        found: dict[str, Order] = {}
        for start in range(0, len(ids), 500):
            query = select(orders).where(orders.c.id.in_(ids[start : start + 500]))
            found.update({row["id"]: order_from_row(row) for row in (await connection.execute(query)).mappings()})
        return found

    async def commit(self, change: Change) -> None:
        """Queue a state change for the next group commit and wait until it is durable."""
        await self.enqueue(change)

    def enqueue(self, change: Change) -> asyncio.Future[None]:
        """Queue a state change for the next group commit; the future resolves once it is durable.

        Lets an order go on with work that has no outside effect while its change is being
        written; whatever announces the change waits for the future first.
        """
        change.done = asyncio.get_running_loop().create_future()
        self._in_flight += 1
        change.done.add_done_callback(self._settled)
        self._queue.put_nowait(change)
        return change.done

    def _settled(self, _done: asyncio.Future[None]) -> None:
        self._in_flight -= 1

    async def _write_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            await self._gather_more()
            while len(batch) < _BATCH_LIMIT and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            lost: set[str] = set()
            try:
                writable = self._drop_orphans(batch)
                if writable:
                    result: BatchResult = await self._with_retries(
                        self._write_batch, writable, run=self._run_on_writer_connection
                    )
                    self.own_change_seqs.add(result.change_seq)
                    lost = result.lost
            except StorageUnavailable as error:
                log.info("could not store %d state changes: %s", len(batch), error)
                for change in batch:
                    if change.done and not change.done.done():
                        change.done.set_exception(StorageFailure(str(error)))
            except Exception as error:
                log.exception("could not store %d state changes", len(batch))
                for change in batch:
                    if change.done and not change.done.done():
                        change.done.set_exception(StorageFailure(f"could not store the state change: {error}"))
            else:
                self.commits += 1
                for change in batch:
                    if change.done and not change.done.done():
                        if change.order.id in lost:
                            change.done.set_exception(
                                OrderLost(f"order {change.order.id} was changed by another process; dropped here")
                            )
                        else:
                            change.done.set_result(None)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _gather_more(self) -> None:
        """Let tasks that are ready to run queue their changes too, so one commit carries them all.

        Orders woken by the last commit need a few loop turns (dispatch, both quotes, build) to
        queue their next changes. A turn costs microseconds, a round trip milliseconds.
        """
        for _ in range(_GATHER_TURNS):
            if self._queue.qsize() >= _BATCH_LIMIT:
                return
            await asyncio.sleep(0)

    def _drop_orphans(self, batch: list[Change]) -> list[Change]:
        """Fail the changes whose earlier change of the same order could not be stored; return the rest.

        Runs in queue order, so a change behind a dropped one is dropped too. Once a change is
        decided its link is cut: chains never hold more than the changes still pending.
        """
        writable = []
        for change in batch:
            earlier, change.after = change.after, None
            if earlier is not None and earlier.failed:
                if change.done and not change.done.done():
                    assert earlier.done is not None
                    cause = None if earlier.done.cancelled() else earlier.done.exception()
                    kind = OrderLost if isinstance(cause, OrderLost) else StorageFailure
                    change.done.set_exception(kind("an earlier state change of this order was not stored"))
            else:
                writable.append(change)
        return writable

    async def _write_batch(self, connection: AsyncConnection, batch: list[Change]) -> BatchResult:
        """One group commit's rows, on the driver connection under the caller's transaction (see fast_write)."""
        driver = (await connection.get_raw_connection()).driver_connection
        if self.dialect == "postgresql":
            return await write_postgres(driver, batch, self.owner_id)
        return await write_sqlite(driver, batch, self.owner_id)

    async def bump_change_seq(self, connection: AsyncConnection) -> int:
        """The change feed's mark for an insert or a cancel, taken first in its transaction (see change_feed)."""
        seq = await change_feed.mark_one_off(connection)
        self.own_change_seqs.add(seq)
        return seq

    async def _with_retries(self, work: Work[T], *args: Any, run: Callable[..., Awaitable[T]] | None = None) -> T:
        """Retry a transaction through locks and dropped connections; it either lands whole or not at all."""
        attempt = 0
        while True:
            try:
                self._file.check()
                result = await (run or self._run)(work, *args)
                self.last_error = None
                return result
            except (OperationalError, DBAPIError) as error:
                if not is_transient(error, self.url):
                    problem = permanent_problem(error, self.url)
                    if problem is None:
                        raise
                    self._break(StorageUnavailable(problem))
                    raise self.fatal from error  # type: ignore[misc]
                self.last_error = str(error.orig) if error.orig else str(error)
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

    def _break(self, problem: StorageUnavailable) -> None:
        if self.fatal is None:
            self.fatal = problem
            self.broken.set()

    async def reset_account(self, balances: dict[str, Decimal], now: datetime) -> None:
        """Start the paper account over with these balances (see account_store.reset)."""

        async def work(connection: AsyncConnection) -> None:
            await account_store.reset(connection, balances, now)

        await self._with_retries(work)

    # -- reads ----------------------------------------------------------------------------

    async def read_account(self) -> tuple[datetime, list[Balance], list[Fill]] | None:
        """The paper account's start, balances and fills, or None if none was started."""

        async def work(connection: AsyncConnection) -> tuple[datetime, list[Balance], list[Fill]] | None:
            return await account_store.read_account(connection)

        return await self._with_retries(work)

    async def get(self, order_id: str) -> Order | None:
        async def work(connection: AsyncConnection) -> Order | None:
            row = (await connection.execute(select(orders).where(orders.c.id == order_id))).mappings().first()
            if row is None:
                return None
            # The row and its log are two reads, and on SQLite a read starts no transaction: a commit
            # can land between them. Every change writes the row's `log_count` with the lines it
            # appends, so the lines below it are exactly the log of the state this row holds.
            log_result = await connection.execute(
                select(order_logs)
                .where(order_logs.c.order_id == order_id, order_logs.c.idx < row["log_count"])
                .order_by(order_logs.c.idx)
            )
            return order_from_row(row, tuple(log_from_row(item) for item in log_result.mappings()))

        return await self._with_retries(work)

    async def find_by_prefix(self, prefix: str) -> list[str]:
        """Order ids starting with `prefix`, so people can type the short id the board shows."""

        async def work(connection: AsyncConnection) -> list[str]:
            # Literal: '%' and '_' in what was typed are characters, not LIKE wildcards.
            query = select(orders.c.id).where(orders.c.id.startswith(prefix.lower(), autoescape=True)).limit(2)
            return list((await connection.execute(query)).scalars())

        return await self._with_retries(work)

    async def list_orders(
        self,
        *,
        status: OrderStatus | None = None,
        pair: str | None = None,
        limit: int | None = None,
        newest_first: bool = True,
        before_seq: int | None = None,
    ) -> list[Order]:
        """Orders without their logs (a board or a list never needs thousands of log lines).

        `before_seq` pages back through history (the desk loads the newest page first, then older ones).
        """
        query = _filtered(select(orders), status, pair)
        if before_seq is not None:
            query = query.where(orders.c.seq < before_seq)
        query = query.order_by(orders.c.seq.desc() if newest_first else orders.c.seq)
        if limit:
            query = query.limit(limit)

        async def work(connection: AsyncConnection) -> list[Order]:
            result = await connection.execute(query)
            if limit is not None and limit < _LARGE_PAGE:
                return [order_from_row(row) for row in result.mappings()]
            # The driver has already fetched every row; turning them into orders (decimals, times,
            # enums: ~20-40 µs a row) is pure Python, so a big page does it in a worker thread and the
            # loop keeps painting and running orders (a 100,000-order board held it for seconds).
            return await asyncio.to_thread(lambda: [order_from_row(row) for row in result.mappings()])

        return await self._with_retries(work)

    async def stream(
        self, *, status: OrderStatus | None = None, pair: str | None = None, chunk: int = 5000
    ) -> AsyncIterator[list[Order]]:
        """Orders oldest first in chunks, for exports that must not hold a whole database in memory."""
        last_seq = 0
        while True:
            query = _filtered(select(orders), status, pair).where(orders.c.seq > last_seq)
            query = query.order_by(orders.c.seq).limit(chunk)

            async def work(connection: AsyncConnection, query: Any = query) -> list[Order]:
                return [order_from_row(row) for row in (await connection.execute(query)).mappings()]

            page = await self._with_retries(work)
            if not page:
                return
            yield page
            last_seq = page[-1].seq

    async def stream_report(
        self, *, status: OrderStatus | None = None, pair: str | None = None, chunk: int = 20000
    ) -> AsyncIterator[list[tuple[Any, ...]]]:
        """The CSV report's cells, oldest first in chunks, without building an Order per row.

        Columns in the report's order (id, createdAt, updatedAt, pair, direction, amount, status,
        dex, executionPrice, txHash, attempts, error), then the stored route (JSON) the report's
        added columns are computed from. SQLite already stores decimals and
        timestamps as the contract's text, so they come back as that text, untouched; PostgreSQL
        gives Decimal and datetime, which `report_cells` turns into the same text.
        """
        last_seq = 0
        while True:
            query = _filtered(select(orders.c.seq, *_REPORT_COLUMNS), status, pair).where(orders.c.seq > last_seq)
            query = query.order_by(orders.c.seq).limit(chunk)

            async def work(connection: AsyncConnection, query: Any = query) -> Sequence[Row[Any]]:
                return (await connection.execute(query)).all()

            page = await self._with_retries(work)
            if not page:
                return
            last_seq = page[-1][0]
            yield [row[1:] for row in page] if self.dialect == "sqlite" else [report_cells(row[1:]) for row in page]

    async def max_seq(self) -> int:
        """The highest order sequence stored (0 for an empty database)."""

        async def work(connection: AsyncConnection) -> int:
            return int((await connection.execute(select(func.coalesce(func.max(orders.c.seq), 0)))).scalar_one())

        return await self._with_retries(work)

    async def counts_by_status(self) -> dict[OrderStatus, int]:
        async def work(connection: AsyncConnection) -> dict[OrderStatus, int]:
            result = await connection.execute(select(orders.c.status, func.count()).group_by(orders.c.status))
            return {OrderStatus(status): count for status, count in result}

        return await self._with_retries(work)

    async def summary_rows(self, counter: SummaryCounter) -> SummaryRows:
        """The summary's grouped aggregates over every stored order (see `engine.storage.summary`)."""

        async def work(connection: AsyncConnection) -> SummaryRows:
            return await counter.count(connection, self.dialect)

        result: SummaryRows = await self._with_retries(work)
        return result

    async def executions(self) -> dict[str, int]:
        """Executions per order id from the mock chain's ledger (a proof of 'never executed twice')."""

        async def work(connection: AsyncConnection) -> dict[str, int]:
            result = await connection.execute(select(ledger.c.order_id, func.count()).group_by(ledger.c.order_id))
            return {order_id: count for order_id, count in result}

        return await self._with_retries(work)


def _filtered(query: Any, status: OrderStatus | None, pair: str | None) -> Any:
    if status is not None:
        query = query.where(orders.c.status == str(status))
    if pair is not None:
        query = query.where(orders.c.pair == pair)
    return query


# Stored text read as text: no parsing into datetime/Decimal only to format it back for the report.
_REPORT_COLUMNS = tuple(
    type_coerce(orders.c[name], String())
    if isinstance(orders.c[name].type, ExactDecimal | UtcTimestamp)
    else orders.c[name]
    for name in REPORT_COLUMNS
)
