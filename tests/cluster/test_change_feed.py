"""The change feed without a shared counter: gap-free when writers commit out of order, no repeats, migration 0006.

On PostgreSQL a row's mark is its writing transaction's id, handed out at the first write, so a
transaction that started first can commit last with the lower mark. A reader must still see it.
"""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from engine.model.domain import LogEntry, Order, OrderStatus, utc_now
from engine.model.log_kinds import LogKind
from engine.storage import Change, OrderStore, cancels, feed_reads, ownership
from engine.storage.change_feed import FeedCursor
from engine.storage.fast_write import write_postgres
from engine.storage.migrate import _config, head_revision
from engine.storage.schema import change_counter, orders
from tests.conftest import insert_owned, postgres_schema


def _routing(order: Order) -> Change:
    entry = LogEntry(order.updated_at, OrderStatus.ROUTING, LogKind.ATTEMPT_STARTED, "attempt 1", {"attempt": 1})
    return Change(
        order.evolve(status=OrderStatus.ROUTING, attempts=1, version=order.version + 1, logs=(*order.logs, entry)),
        [entry],
    )


async def _read(reader: OrderStore, cursor: FeedCursor) -> tuple[dict[str, tuple[int, Order]], FeedCursor]:
    changed, after = await feed_reads.changes_since(reader, cursor)
    ids = [order.id for _mark, order in changed]
    assert len(ids) == len(set(ids)), "one read returns each changed order once"
    return {order.id: (mark, order) for mark, order in changed}, after


async def test_a_transaction_that_started_first_and_commits_last_is_not_skipped() -> None:
    async with postgres_schema() as url:
        first, second, reader = (OrderStore(url, owner_id=name) for name in ("first", "second", "reader"))
        for store in (first, second, reader):
            await store.open()
        try:
            [early] = await insert_owned(first, 1, seed=1)
            [late] = await insert_owned(second, 1, seed=2)
            cursor = await feed_reads.feed_cursor_now(reader)

            # `first` writes in a transaction it keeps open: it holds the lower transaction id.
            async with first.engine.connect() as held:
                driver = (await held.get_raw_connection()).driver_connection
                outer = driver.transaction()
                await outer.start()
                early_mark = (await write_postgres(driver, [_routing(early)], "first")).change_seqs[0]
                # `second` starts later and commits first, with a higher id.
                late_mark = (await second._with_retries(second._write_batch, [_routing(late)])).change_seqs[0]
                assert early_mark < late_mark

                seen, cursor = await _read(reader, cursor)
                assert set(seen) == {late.id}
                assert seen[late.id][1].status is OrderStatus.ROUTING
                assert early_mark in cursor.pending, "the open transaction is remembered, not passed"
                await outer.commit()

            seen, cursor = await _read(reader, cursor)
            assert set(seen) == {early.id}, "the lower mark committed last and is read now"
            assert seen[early.id] == (early_mark, seen[early.id][1])
            assert seen[early.id][1].status is OrderStatus.ROUTING

            seen, cursor = await _read(reader, cursor)
            assert seen == {}, "nothing already read is read again"
            assert cursor.covers(early_mark)
            assert cursor.covers(late_mark)
        finally:
            for store in (first, second, reader):
                await store.close()


async def test_the_feed_shows_other_processes_changes_once_and_skips_its_own(db_url: str) -> None:
    worker, desk = OrderStore(db_url, owner_id="worker"), OrderStore(db_url, owner_id="desk")
    await worker.open()
    await desk.open()
    try:
        cursor = await feed_reads.feed_cursor_now(desk)
        stored = await insert_owned(worker, 3, seed=4)
        seen, cursor = await _read(desk, cursor)
        assert set(seen) == {order.id for order in stored}
        # The worker's later state changes of orders it holds reach the desk; nothing repeats.
        await worker._with_retries(worker._write_batch, [_routing(order) for order in stored[:2]])
        seen, cursor = await _read(desk, cursor)
        assert {order_id: item[1].status for order_id, item in seen.items()} == {
            stored[0].id: OrderStatus.ROUTING,
            stored[1].id: OrderStatus.ROUTING,
        }
        # The desk cancels one: its own change comes back marked as its own (the feed's reader skips it).
        [cancelled] = await cancels.cancel(desk, [stored[2].id], now=utc_now(), by="a test")
        assert cancelled.outcome == "cancelled"
        seen, cursor = await _read(desk, cursor)
        assert set(seen) == {stored[2].id}
        assert seen[stored[2].id][0] in desk.own_change_seqs
        seen, cursor = await _read(desk, cursor)
        assert seen == {}
    finally:
        await worker.close()
        await desk.close()


def _migrate(connection: Connection, revision: str, *, down: bool) -> None:
    config = _config(connection)
    if down:
        command.downgrade(config, revision)
    else:
        command.upgrade(config, revision)


async def test_revision_0006_keeps_every_order_and_downgrades(db_url: str) -> None:
    store = OrderStore(db_url, owner_id="writer")
    await store.open()
    try:
        stored = await insert_owned(store, 5, seed=5)
        await store._with_retries(store._write_batch, [_routing(order) for order in stored])
        async with store.engine.begin() as connection:
            marks = dict((await connection.execute(select(orders.c.id, orders.c.change_seq))).all())
            await connection.run_sync(_migrate, "0005", down=True)
            counter = (await connection.execute(select(change_counter.c.value))).scalar_one()
            # The previous release's feed resumes past every stored mark.
            assert counter >= max(marks.values())
        async with store.engine.begin() as connection:
            await connection.run_sync(_migrate, "head", down=False)
            after = dict((await connection.execute(select(orders.c.id, orders.c.change_seq))).all())
            revision = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
        assert revision == head_revision()  # 0006, or a later revision on top of it
        assert set(after) == {order.id for order in stored}
        if store.dialect == "postgresql":
            assert set(after.values()) == {0}, "counter-era marks are cleared: they are not transaction ids"
        else:
            assert after == marks
        for order in stored:
            again = await store.get(order.id)
            assert again is not None
            assert (again.status, again.version, len(again.logs)) == (OrderStatus.ROUTING, 1, 2)
    finally:
        await store.close()


async def test_one_batch_of_claims_takes_what_is_free_and_reports_the_rest_as_stored(db_url: str) -> None:
    worker, other = OrderStore(db_url, owner_id="worker"), OrderStore(db_url, owner_id="other")
    await worker.open()
    await other.open()
    try:
        now = utc_now()
        until = now + timedelta(seconds=30)
        free, held, ended = await insert_owned(other, 3, seed=6)
        await ownership.release(other)  # all three unowned
        [taken] = (await ownership.claim_many(other, [held.id], now=now, until=until)).values()
        assert taken.claimed
        [cancelled] = await cancels.cancel(other, [ended.id], now=now, by="a test")
        assert cancelled.outcome == "cancelled"

        claims = await ownership.claim_many(worker, [free.id, held.id, ended.id, "no-such-order"], now=now, until=until)
        assert claims[free.id].claimed
        assert claims[free.id].order is not None
        assert (claims[free.id].order.owner, claims[free.id].order.version) == ("worker", free.version + 1)
        assert [entry.kind for entry in claims[free.id].order.logs] == [LogKind.RECEIVED]
        assert not claims[held.id].claimed, "a live process holds it"
        assert claims[held.id].order is not None
        assert claims[held.id].order.owner == "other"
        assert not claims[ended.id].claimed
        assert claims[ended.id].order is not None
        assert claims[ended.id].order.status is OrderStatus.CANCELLED
        assert len(claims[ended.id].order.logs) == 2
        assert claims["no-such-order"] == ownership.Claim(None, False)
    finally:
        await worker.close()
        await other.close()
