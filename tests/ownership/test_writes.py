"""Conditional, versioned writes: a conflict fails only its own order, and a retried batch is recognised."""

from __future__ import annotations

import asyncio

from engine.model.domain import LogEntry, Order, OrderStatus, utc_now
from engine.model.log_kinds import LogKind
from engine.storage import Change, OrderLost, OrderStore, cancels
from tests.conftest import insert_owned


def _routing(order: Order) -> Change:
    entry = LogEntry(order.updated_at, OrderStatus.ROUTING, LogKind.ATTEMPT_STARTED, "attempt 1", {"attempt": 1})
    return Change(
        order.evolve(status=OrderStatus.ROUTING, attempts=1, version=order.version + 1, logs=(*order.logs, entry)),
        [entry],
    )


async def test_one_conflicting_change_fails_only_its_order_and_the_rest_of_the_batch_commits(db_url: str) -> None:
    writer = OrderStore(db_url, owner_id="writer")
    other = OrderStore(db_url, owner_id="other-process")
    await writer.open()
    await other.open()
    try:
        orders = await insert_owned(writer, 3)
        # Another process cancels the middle order behind the writer's back.
        [cancelled] = await cancels.cancel(other, [orders[1].id], now=utc_now(), by="a test")
        assert cancelled.outcome == "cancelled"
        commits = writer.commit_times.commits
        changes = [_routing(order) for order in orders]
        stored = [writer.enqueue(change) for change in changes]  # queued together: one group commit
        later = Change(changes[1].order.evolve(version=3), [], after=changes[1])
        stored_later = writer.enqueue(later)
        results = await asyncio.gather(*stored, stored_later, return_exceptions=True)

        assert results[0] is None
        assert results[2] is None
        assert isinstance(results[1], OrderLost)
        assert isinstance(results[3], OrderLost), "the lost order's later change fails the same way"
        assert writer.commit_times.commits == commits + 1, "one commit, with the two orders it could write"
        first, middle, last = [await writer.get(order.id) for order in orders]
        assert first is not None
        assert last is not None
        assert middle is not None
        assert (first.status, first.version, len(first.logs)) == (OrderStatus.ROUTING, 1, 2)
        assert (last.status, last.version, len(last.logs)) == (OrderStatus.ROUTING, 1, 2)
        assert middle.status is OrderStatus.CANCELLED
        assert [entry.kind for entry in middle.logs] == [LogKind.RECEIVED, LogKind.CANCELLED]
    finally:
        await writer.close()
        await other.close()


async def test_a_batch_retried_after_its_commit_landed_is_recognised_not_written_twice(db_url: str) -> None:
    store = OrderStore(db_url, owner_id="writer")
    await store.open()
    try:
        orders = await insert_owned(store, 4)
        batch = [_routing(order) for order in orders]
        first = await store._with_retries(store._write_batch, batch)
        # The same batch again, as after a commit whose acknowledgement was lost.
        again = await store._with_retries(store._write_batch, batch)
        assert first.lost == set()
        assert again.lost == set()
        for order in orders:
            stored = await store.get(order.id)
            assert stored is not None
            assert (stored.status, stored.version, len(stored.logs)) == (OrderStatus.ROUTING, 1, 2)
        # Inserting the same orders again finds them: no second order, and they are still ours.
        again_inserted = await store.insert([order.evolve(seq=0) for order in orders])
        assert [created for _, created in again_inserted] == [False] * 4
        assert sum((await store.counts_by_status()).values()) == 4
    finally:
        await store.close()


async def test_an_id_reused_for_another_order_is_answered_with_the_stored_order_not_the_new_one(db_url: str) -> None:
    # An API client reusing an Idempotency-Key for a different order while the first still waits
    # (PENDING, version 0): the id names the first order, which must come back as stored.
    store = OrderStore(db_url, owner_id="writer")
    await store.open()
    try:
        [first] = await insert_owned(store, 1)
        other = first.evolve(amount=first.amount * 3, seq=0)
        [(answered, created)] = await store.insert([other])
        assert created is False
        assert answered.amount == first.amount
        # A retry of the very insert that stored it (its acknowledgement lost) is still recognised as ours.
        [(again, created_again)] = await store.insert([first.evolve(seq=0)])
        assert created_again is True
        assert again.seq == first.seq
        assert sum((await store.counts_by_status()).values()) == 1
    finally:
        await store.close()
