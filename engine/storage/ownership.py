"""Who runs which order: claims, leases, release, and who holds what (cancel by anyone: cancels.py).

An engine claims an order (sets itself as `owner`) before working on it, and keeps renewing its
lease (its row in `owners`) while it runs: one small write per renewal however many orders it
holds. A claim takes only orders nobody owns or whose owner's lease has run out, so a live process
is never robbed and a dead one is taken over once its lease expires. A claim bumps the
version, so a stalled former owner that wakes up finds every write refused. Cancelling needs no
ownership: it is one versioned write in any process (cancels.py), and the owner notices at its next write.

Writers of different processes do not queue behind one another (see change_feed.py). Two
transactions that lock the same rows in different orders (a take-over or a cancel against a
former owner's group commit: rare) make PostgreSQL abort one as a deadlock, which is retried like
any transient failure; every write here is conditional, so a retry repeats nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.model.domain import ACTIVE_STATES, LogEntry, Order
from engine.storage.fast_claims import claim_on_driver, release_on_driver
from engine.storage.rows import log_from_row, order_from_row
from engine.storage.schema import order_logs, orders, owners
from engine.storage.store import OrderStore

_ACTIVE = sorted(str(status) for status in ACTIVE_STATES)


async def orders_with_logs(connection: AsyncConnection, ids: Sequence[str]) -> list[Order]:
    """The orders with their whole logs, oldest first."""
    found: list[Order] = []
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        rows = list((await connection.execute(select(orders).where(orders.c.id.in_(chunk)))).mappings())
        entries: dict[str, list[LogEntry]] = {row["id"]: [] for row in rows}
        log_query = select(order_logs).where(order_logs.c.order_id.in_(chunk)).order_by(order_logs.c.idx)
        for item in (await connection.execute(log_query)).mappings():
            entries[item["order_id"]].append(log_from_row(item))
        found.extend(order_from_row(row, tuple(entries[row["id"]])) for row in rows)
    return sorted(found, key=lambda order: order.seq)


async def read_orders(store: OrderStore, ids: Sequence[str]) -> list[Order]:
    """Several orders with their whole logs in one transaction, oldest first (rows read back as they start)."""
    found: list[Order] = await store.transaction(orders_with_logs, ids)
    return found


def _owner_alive(now: datetime) -> Any:
    return exists().where(owners.c.id == orders.c.owner, owners.c.lease_until >= now)


async def _heartbeat(connection: AsyncConnection, owner: str, until: datetime) -> None:
    """Create or extend this owner's lease in one statement: a worker's concurrent claims may both be first.

    Callers renew last in their transaction: the owner's row stays locked until the commit, so the
    claims of one process queue on it only for that moment.
    """
    upsert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = upsert(owners).values(id=owner, lease_until=until)
    await connection.execute(
        statement.on_conflict_do_update(
            index_elements=[owners.c.id], set_={"lease_until": statement.excluded.lease_until}
        )
    )


async def claim(store: OrderStore, *, now: datetime, until: datetime) -> list[Order]:
    """Take every unfinished order that is unowned or whose owner's lease ran out; returns them with logs, oldest first.

    Renews this owner's own lease in the same transaction, so what it claims is covered at once.
    Its own orders are never taken, even when its lease ran out (a renewal late under load): the
    claim would bump their versions and fail every write of the attempts it has in flight, and it
    dropped them as "taken over by another process" (93,482 of 100,000 orders, with no other
    process on the file). Owners are compared, not times; the renewal here covers them again.
    """

    theirs = or_(orders.c.owner.is_(None), (orders.c.owner != store.owner_id) & ~_owner_alive(now))

    async def anything(connection: AsyncConnection) -> bool:
        return (
            await connection.execute(select(orders.c.id).where(orders.c.status.in_(_ACTIVE), theirs).limit(1))
        ).first() is not None

    # Looked for first, in a read: the claim's UPDATE scans every unfinished order, and on SQLite it
    # holds the file's write lock while it does. With 100,000 of its own orders queued, a run's own
    # take-over round every half lease held the lock past the group commit's 2 s busy wait ("database
    # is locked", retried) though no other process used the file. Usually nothing is abandoned.
    if not await store.transaction(anything):
        await renew(store, until)
        return []

    async def work(connection: AsyncConnection) -> list[Order]:
        claimed = await connection.execute(
            update(orders)
            .where(orders.c.status.in_(_ACTIVE), theirs)
            .values(owner=store.owner_id, version=orders.c.version + 1)
            .returning(orders.c.id)
        )
        ids = [row[0] for row in claimed]
        # Owners gone for a day leave no trace (their orders were taken over long ago).
        await connection.execute(delete(owners).where(owners.c.lease_until < now - timedelta(days=1)))
        found = await orders_with_logs(connection, ids) if ids else []
        await _heartbeat(connection, store.owner_id, until)
        return found

    result: list[Order] = await store.transaction(work)
    return result


@dataclass(frozen=True, slots=True)
class Claim:
    """What `claim_one` found: the stored order with its whole log (None: no such order), and whether it is now held."""

    order: Order | None
    claimed: bool


# claim_many's statements, built once: building them per call cost a worker as much CPU as running them.
_CLAIM_MANY = (
    update(orders)
    .where(
        orders.c.id.in_(bindparam("ids", expanding=True)),
        orders.c.status.in_(_ACTIVE),
        or_(
            orders.c.owner.is_(None),
            orders.c.owner == bindparam("claimer"),
            ~exists().where(owners.c.id == orders.c.owner, owners.c.lease_until >= bindparam("now")),
        ),
    )
    .values(owner=bindparam("claimer"), version=orders.c.version + 1)
    .returning(*orders.c)
)
_ORDERS_BY_ID = select(orders).where(orders.c.id.in_(bindparam("ids", expanding=True)))
_LOGS_BY_ORDER = (
    select(order_logs).where(order_logs.c.order_id.in_(bindparam("ids", expanding=True))).order_by(order_logs.c.idx)
)


async def claim_one(store: OrderStore, order_id: str, *, now: datetime, until: datetime, renew: bool = True) -> Claim:
    """Take one unfinished order if nobody holds it, this owner does, or its owner's lease ran out.

    A cluster worker claims the order of each job it takes: the queue may hand a job to a second
    worker (its redelivery is at-least-once), but only one process at a time holds the order, and
    every write is conditional on holding it. Not claimed when a live process holds it or it has
    ended; the order is then returned as stored. See `claim_many`.
    """
    claims = await claim_many(store, [order_id], now=now, until=until, renew=renew)
    return claims[order_id]


async def claim_many(
    store: OrderStore, order_ids: Sequence[str], *, now: datetime, until: datetime, renew: bool = True
) -> dict[str, Claim]:
    """`claim_one` for several orders in one transaction of at most four statements, whatever their number.

    Profiling `bench cluster` showed a worker spending more CPU on starting jobs (a read, then a
    claim that read the row again, each its own transaction) than on running the orders; a worker
    now claims the orders of the jobs it starts together at once. `renew` renews this owner's
    lease in the same transaction (a caller that renewed it moments ago may skip that).
    """
    wanted = sorted(set(order_ids))
    if store.dialect == "postgresql":
        return await _claim_many_postgres(store, wanted, now=now, until=until, renew=renew)
    values = {"ids": wanted, "claimer": store.owner_id, "now": now}

    async def work(connection: AsyncConnection) -> dict[str, Claim]:
        claimed = await connection.execute(_CLAIM_MANY, values)
        rows = {row["id"]: row for row in claimed.mappings()}
        ours = set(rows)
        rest = [order_id for order_id in wanted if order_id not in ours]
        if rest:
            query = select(orders).where(orders.c.id.in_(rest))
            rows.update({row["id"]: row for row in (await connection.execute(query)).mappings()})
        logs: dict[str, list[LogEntry]] = {order_id: [] for order_id in rows}
        if rows:
            log_query = select(order_logs).where(order_logs.c.order_id.in_(sorted(rows))).order_by(order_logs.c.idx)
            for item in (await connection.execute(log_query)).mappings():
                # Only the lines of the state read (a log line is written with the row's log_count).
                if item["idx"] < rows[item["order_id"]]["log_count"]:
                    logs[item["order_id"]].append(log_from_row(item))
        if ours and renew:
            await _heartbeat(connection, store.owner_id, until)
        return {
            order_id: Claim(order_from_row(rows[order_id], tuple(logs[order_id])), order_id in ours)
            if order_id in rows
            else Claim(None, False)
            for order_id in wanted
        }

    # A worker's claims come one batch at a time (cluster/claims.py): a kept connection, no pool round trips.
    result: dict[str, Claim] = await store.run_serially(work)
    return result


async def _claim_many_postgres(
    store: OrderStore, wanted: list[str], *, now: datetime, until: datetime, renew: bool
) -> dict[str, Claim]:
    """`claim_many` on PostgreSQL: one statement on the kept connection's driver (engine/storage/fast_claims.py)."""

    async def work(driver: Any) -> dict[str, Claim]:
        found = await claim_on_driver(driver, wanted, store.owner_id, now=now, until=until, renew=renew)
        return {order_id: Claim(*found[order_id]) if order_id in found else Claim(None, False) for order_id in wanted}

    result: dict[str, Claim] = await store.run_serially(work, on_driver=True)
    return result


async def renew(store: OrderStore, until: datetime) -> None:
    """Extend this owner's lease, which covers every order it holds: one row, whatever the count."""

    async def work(connection: AsyncConnection) -> None:
        await _heartbeat(connection, store.owner_id, until)

    await store.transaction(work)


async def release(store: OrderStore) -> int:
    """Give up every unfinished order still owned (a clean stop), so another process can take it at once."""

    async def work(connection: AsyncConnection) -> int:
        result = await connection.execute(
            update(orders).where(orders.c.owner == store.owner_id, orders.c.status.in_(_ACTIVE)).values(owner=None)
        )
        await connection.execute(delete(owners).where(owners.c.id == store.owner_id))
        return int(result.rowcount)

    count: int = await store.transaction(work)
    return count


async def release_one(store: OrderStore, order_id: str) -> bool:
    """Give up one unfinished order this owner holds: its next turn (a delayed job) may go to any worker.

    A cluster worker backs off (or waits for a limit price) by delaying the order's job, not by
    sleeping in it; holding the order meanwhile would leave the worker that gets the job waiting
    on this one's lease, renewed for as long as it lives.
    """

    if store.dialect == "postgresql":
        # One statement on the kept connection the claims use: no pool checkout, no transaction of its own.

        async def release_here(driver: Any) -> bool:
            return await release_on_driver(driver, order_id, store.owner_id)

        done: bool = await store.run_serially(release_here, on_driver=True)
        return done

    async def work(connection: AsyncConnection) -> bool:
        result = await connection.execute(
            update(orders)
            .where(orders.c.id == order_id, orders.c.owner == store.owner_id, orders.c.status.in_(_ACTIVE))
            .values(owner=None)
        )
        return bool(result.rowcount)

    released: bool = await store.transaction(work)
    return released


async def others_active(store: OrderStore, now: datetime) -> int:
    """Unfinished orders held by other live processes (their owner's lease has not run out)."""
    query = select(func.count()).where(
        orders.c.status.in_(_ACTIVE), orders.c.owner != store.owner_id, _owner_alive(now)
    )

    async def work(connection: AsyncConnection) -> int:
        return int((await connection.execute(query)).scalar_one())

    count: int = await store.transaction(work)
    return count


async def held_elsewhere(store: OrderStore) -> dict[str, datetime]:
    """Unfinished orders other owners hold, with their owner's lease expiry."""
    query = (
        select(orders.c.id, owners.c.lease_until)
        .join(owners, owners.c.id == orders.c.owner)
        .where(orders.c.status.in_(_ACTIVE), orders.c.owner != store.owner_id)
    )

    async def work(connection: AsyncConnection) -> dict[str, datetime]:
        return {row[0]: row[1] for row in await connection.execute(query)}

    held: dict[str, datetime] = await store.transaction(work)
    return held


async def orphaned(store: OrderStore, now: datetime) -> list[str]:
    """Unfinished orders nobody live owns (no owner, or an owner whose lease ran out), oldest first.

    What a cluster's reconciler gives a job again: one of these may have lost its job (a Redis
    restarted empty, a job failed during an outage) and nobody would ever run it otherwise.
    """
    query = (
        select(orders.c.id)
        .where(orders.c.status.in_(_ACTIVE), or_(orders.c.owner.is_(None), ~_owner_alive(now)))
        .order_by(orders.c.seq)
    )

    async def work(connection: AsyncConnection) -> list[str]:
        return [row[0] for row in await connection.execute(query)]

    found: list[str] = await store.transaction(work)
    return found


async def owners_listed(store: OrderStore) -> list[tuple[str, datetime]]:
    """Every process with a lease row (host:pid:tag) and its lease's end, latest first: who may hold a lock."""
    query = select(owners.c.id, owners.c.lease_until).order_by(owners.c.lease_until.desc())

    async def work(connection: AsyncConnection) -> list[tuple[str, datetime]]:
        return [(str(row[0]), row[1]) for row in await connection.execute(query)]

    # One plain read, no retries: it is asked while a writer holds the file, and readers are not blocked.
    listed: list[tuple[str, datetime]] = await store._run(work)
    return listed
