"""A cluster job's copy of its order (engine/cluster/job_snapshot.py), claimed by the attempt's first write.

The copy replaces the claim's read, so it must decode to exactly the order that read gives; and the
first write must take the order exactly when a claim would (unowned, or a dead owner's), and refuse
a live owner's order and a copy gone stale, touching nothing. A refused copy costs the worker one
ordinary claim (engine/runtime/order_runner.py), never a second execution.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from engine.cluster.job_snapshot import STORED_KEY, carried, job_data, order_id_of
from engine.model.domain import LogEntry, Order, OrderStatus, OrderTerms, OrderType, utc_now
from engine.model.log_kinds import LogKind
from engine.storage import Change, OrderLost, OrderStore, ownership
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.conftest import postgres_schema


async def _store_unowned(store: OrderStore, count: int) -> list[Order]:
    """Orders as a cluster producer stores them: unowned, a market order's terms in the first log line."""
    now = utc_now()
    fresh = []
    for index, request in enumerate(random_requests(default_catalog(), count, seed=11)):
        request = replace(request, user_label=f"desk-{index}")
        terms = OrderTerms(OrderType.MARKET, Decimal("151.2500"), Decimal("150.50"), Decimal("0.5"), None)
        fresh.append(request.to_order(now, terms))
    return [order for order, _created in await store.insert(fresh)]


def _routing(order: Order) -> tuple[Order, LogEntry]:
    entry = LogEntry(utc_now(), OrderStatus.ROUTING, LogKind.ATTEMPT_STARTED, "attempt 1 of 3", {"attempt": 1})
    routed = order.evolve(status=OrderStatus.ROUTING, attempts=1, version=order.version + 1, logs=(*order.logs, entry))
    return routed, entry


async def _write_claiming(store: OrderStore, copy: Order) -> None:
    """The attempt's first write from the copy, claiming as it writes (what `Transitions` makes of it)."""
    routed, entry = _routing(copy)
    change = Change(routed, [entry])
    change.claim_at = utc_now()
    await store.commit(change)


async def test_a_jobs_copy_reads_back_as_the_database_reads_the_order() -> None:
    async with postgres_schema() as url:
        store = OrderStore(url, owner_id="producer")
        await store.open()
        try:
            for stored in await _store_unowned(store, 20):
                data = job_data(stored.id, stored)
                assert STORED_KEY in data
                read = await store.get(stored.id)
                copy = carried(data, stored.id)
                assert copy == read
                assert copy is not None
                assert read is not None
                assert copy.logs == read.logs
                assert copy.terms == read.terms
                assert copy.user_label == read.user_label
                assert carried(data, "another-order") is None
            limit = replace(stored, terms=OrderTerms(OrderType.LIMIT, Decimal("140")))
            owned = stored.evolve(owner="someone")
            tried = stored.evolve(attempts=1)
            for no_copy in (limit, owned, tried):
                assert STORED_KEY not in job_data(no_copy.id, no_copy)
            assert carried({"orderId": stored.id, STORED_KEY: {"row": {}}}, stored.id) is None
            assert carried({"orderId": stored.id}, stored.id) is None
        finally:
            await store.close()


async def test_the_first_write_claims_a_copy_exactly_where_a_claim_would() -> None:
    async with postgres_schema() as url:
        stores = [OrderStore(url, owner_id=name) for name in ("worker", "alive", "gone")]
        worker, alive, gone = stores
        for store in stores:
            await store.open()
        try:
            now = utc_now()
            free, held, lapsed, stale = await _store_unowned(alive, 4)
            live = await ownership.claim_one(alive, held.id, now=now, until=now + timedelta(seconds=30))
            assert live.order is not None
            # `gone` holds `lapsed`, but its lease ended before the worker's write.
            dead = await ownership.claim_one(gone, lapsed.id, now=now, until=now - timedelta(seconds=1))
            assert dead.order is not None
            # `stale` was cancelled after its job was made: the job's copy is behind the stored order.
            cancelled = await ownership.claim_one(gone, stale.id, now=now, until=now - timedelta(seconds=1))
            assert cancelled.order is not None
            ended = cancelled.order.evolve(status=OrderStatus.FAILED, error="cancelled")
            await gone.commit(Change(ended.evolve(version=ended.version + 1), []))

            await _write_claiming(worker, free)
            await _write_claiming(worker, dead.order)
            with pytest.raises(OrderLost):
                await _write_claiming(worker, live.order)  # same version, but its owner is alive
            with pytest.raises(OrderLost):
                await _write_claiming(worker, stale)

            after = [await worker.get(order.id) for order in (free, held, lapsed, stale)]
            assert [(o.status, o.owner, len(o.logs)) for o in after if o is not None] == [
                (OrderStatus.ROUTING, "worker", 2),
                (OrderStatus.PENDING, "alive", 1),
                (OrderStatus.ROUTING, "worker", 2),
                (OrderStatus.FAILED, "gone", 1),
            ]
            # Held from then on: the worker's next writes are ordinary ones.
            routed = after[0]
            assert routed is not None
            await worker.commit(Change(routed.evolve(status=OrderStatus.BUILDING, version=routed.version + 1), []))
            building = await alive.get(free.id)
            assert building is not None
            assert building.status is OrderStatus.BUILDING
        finally:
            for store in stores:
                await store.close()


def test_the_order_a_job_runs_is_its_datas_order_id_else_its_job_id() -> None:
    """Any BullMQ client may queue an order; a job whose data names none runs the order its id names (not "None")."""
    assert order_id_of(SimpleNamespace(id="job-1", data=job_data("order-7"))) == "order-7"
    assert order_id_of(SimpleNamespace(id="order-8", data={"note": "from another client"})) == "order-8"
    assert order_id_of(SimpleNamespace(id="order-9", data=None)) == "order-9"
