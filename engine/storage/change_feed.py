"""The change feed: which orders other processes changed since a reader last looked, with no gap.

Every write transaction stamps the order rows it changes with a mark (`orders.change_seq`); a
reader keeps a cursor and asks for the rows whose mark it has not covered yet.

PostgreSQL: the mark is the writing transaction's own id, `pg_current_xact_id()`. Taking it locks
nothing, so the writers of every process commit in parallel (a counter row bumped by each write
transaction made them queue one behind the other across the whole cluster). Ids are handed out at
a transaction's first write, not at its commit, so "marks above the highest seen" would skip a low
id that commits late. A read therefore notes its own snapshot's horizon, in the same statement:
`xmax` (no id from there on had started) and `xip` (the ids still running). A change the snapshot
did not show was made by a transaction of one of those two groups, so the next read asks for
exactly `mark >= xmax OR mark IN xip`: a late commit is never skipped, and a change already read
is not read again (its transaction was finished and below xmax).

SQLite: one writer at a time holds the file anyway, so the counter row costs nothing there and
marks become visible in counter order; a reader reads the counter, then the rows up to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, column, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.model.domain import Order
from engine.storage.limit_terms import with_limit_terms
from engine.storage.rows import order_from_row
from engine.storage.schema import change_counter, orders

PAGE = 2000  # SQLite rows per read; PostgreSQL reads all in one statement, for its one snapshot

# The mark of the transaction it is evaluated in (one id per transaction, whatever the statement).
POSTGRES_MARK = "pg_current_xact_id()::text::bigint"

# Inserts and cancels (one-off writes of producers and desks, not the workers' group commits) still
# queue behind each other, keyed by schema: a cancel reads, then writes, and two producers may
# insert the same order id (an Idempotency-Key) at once.
_ONE_OFF_LOCK = "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ' dexdesk-one-off-writes'))"

_HORIZON = (
    text(
        "SELECT pg_snapshot_xmax(s)::text::bigint AS xmax, "
        "ARRAY(SELECT pg_snapshot_xip(s)::text::bigint) AS xip FROM pg_current_snapshot() AS s"
    )
    .columns(column("xmax", BigInteger), column("xip", ARRAY(BigInteger)))
    .cte("horizon")
)


@dataclass(frozen=True, slots=True)
class FeedCursor:
    """Where a reader stands: every mark at or above `floor`, and every mark in `pending`, is unread."""

    floor: int
    pending: frozenset[int] = frozenset()

    def covers(self, mark: int) -> bool:
        """True when no row with this mark can be returned again (it was read, or it never committed)."""
        return mark < self.floor and mark not in self.pending

    def unread(self) -> ColumnElement[bool]:
        """The SQL condition on `orders.change_seq` for what this cursor has not read."""
        newer = orders.c.change_seq >= self.floor
        return or_(newer, orders.c.change_seq.in_(sorted(self.pending))) if self.pending else newer


async def mark_one_off(connection: AsyncConnection) -> int:
    """The mark for an insert or a cancel, taken first in its transaction (see `_ONE_OFF_LOCK`)."""
    if connection.dialect.name == "postgresql":
        await connection.execute(text(_ONE_OFF_LOCK))
        return int((await connection.execute(text(f"SELECT {POSTGRES_MARK}"))).scalar_one())
    bumped = await connection.execute(
        change_counter.update()
        .where(change_counter.c.id == 1)
        .values(value=change_counter.c.value + 1)
        .returning(change_counter.c.value)
    )
    return int(bumped.scalar_one())


async def cursor_now(connection: AsyncConnection) -> FeedCursor:
    """A cursor past every change committed so far: a reader starting now reads only what follows."""
    if connection.dialect.name == "postgresql":
        row = (await connection.execute(select(_HORIZON.c.xmax, _HORIZON.c.xip))).one()
        return FeedCursor(int(row.xmax), frozenset(int(xid) for xid in row.xip))
    value = (await connection.execute(select(change_counter.c.value).where(change_counter.c.id == 1))).scalar()
    return FeedCursor(int(value or 0) + 1)


async def read(
    connection: AsyncConnection, cursor: FeedCursor, owner: str
) -> tuple[list[tuple[int, Order]], FeedCursor]:
    """Rows changed since `cursor` that `owner` does not hold, by mark, without logs; and the cursor after them."""
    counted, after = await read_counted(connection, cursor, owner)
    return [(mark, order) for mark, order, _count in counted], after


async def read_counted(
    connection: AsyncConnection, cursor: FeedCursor, owner: str
) -> tuple[list[tuple[int, Order, int]], FeedCursor]:
    """`read`, with each row's log length: the log entries up to it are what that row's state has seen.

    A reader that heard an order at an earlier log length reads the entries in between to hear
    the states the row went through meanwhile (see engine/runtime/missed_states.py).
    """
    others = or_(orders.c.owner.is_(None), orders.c.owner != owner)
    if connection.dialect.name == "postgresql":
        query = (
            select(_HORIZON.c.xmax, _HORIZON.c.xip, orders)
            .select_from(_HORIZON.outerjoin(orders, and_(cursor.unread(), others)))
            .order_by(orders.c.change_seq, orders.c.seq)
        )
        rows = list((await connection.execute(query)).mappings())
        after = FeedCursor(int(rows[0]["xmax"]), frozenset(int(xid) for xid in rows[0]["xip"]))
        return await _with_terms(
            connection,
            [
                (int(row["change_seq"]), order_from_row(row), int(row["log_count"]))
                for row in rows
                if row["id"] is not None
            ],
        ), after
    # SQLite: every mark up to the counter's value is committed (one writer at a time), so read
    # up to it, page by page; a row changed again meanwhile carries a higher mark and comes next time.
    high = (await connection.execute(select(change_counter.c.value).where(change_counter.c.id == 1))).scalar_one()
    changed: list[tuple[int, Order, int]] = []
    beyond: Any = orders.c.change_seq >= cursor.floor
    while True:
        query = select(orders).where(others, beyond, orders.c.change_seq <= high)
        page = list(
            (await connection.execute(query.order_by(orders.c.change_seq, orders.c.seq).limit(PAGE))).mappings()
        )
        changed.extend((int(row["change_seq"]), order_from_row(row), int(row["log_count"])) for row in page)
        if len(page) < PAGE:
            return await _with_terms(connection, changed), FeedCursor(int(high) + 1)
        mark, seq = page[-1]["change_seq"], page[-1]["seq"]
        beyond = or_(orders.c.change_seq > mark, and_(orders.c.change_seq == mark, orders.c.seq > seq))


async def _with_terms(
    connection: AsyncConnection, changed: list[tuple[int, Order, int]]
) -> list[tuple[int, Order, int]]:
    """Another process's waiting limit order is heard with its limit (see limit_terms)."""
    found = await with_limit_terms(connection, [order for _mark, order, _count in changed])
    return [(mark, order, count) for (mark, _old, count), order in zip(changed, found, strict=True)]
