"""A worker's one-statement claim on PostgreSQL (engine/storage/fast_claims.py) works as the SQLAlchemy one did.

The order a claim returns is what the attempt runs from, so every field must come back as
`store.get` reads it (decimals, UTC timestamps, the route, the log and the terms in it); and it
must take exactly the orders the rule allows: unowned, its own, or a dead owner's, never a live
owner's, never an ended one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.model.domain import LogEntry, Order, OrderStatus, utc_now
from engine.model.log_kinds import LogKind
from engine.storage import Change, OrderStore, ownership
from engine.storage.change_feed import POSTGRES_MARK
from engine.storage.order_codec import postgres_write
from tests.conftest import insert_owned, postgres_schema


async def _change(store: OrderStore, order: Order, status: OrderStatus, **fields: object) -> Order:
    entry = LogEntry(utc_now(), status, LogKind.ATTEMPT_STARTED, f"now {status}", {"attempt": 1, "price": "1.50"})
    changed = order.evolve(status=status, version=order.version + 1, logs=(*order.logs, entry), **fields)
    await store.commit(Change(changed, [entry]))
    return changed


async def test_the_one_statement_claim_takes_what_the_rule_allows_and_reads_orders_as_stored() -> None:
    async with postgres_schema() as url:
        worker, other, reader = (OrderStore(url, owner_id=name) for name in ("worker", "other", "reader"))
        for store in (worker, other, reader):
            await store.open()
        try:
            now = utc_now()
            free, routed, held, ended = await insert_owned(reader, 4, seed=3)
            await ownership.release(reader)  # nobody owns them now
            mine = await ownership.claim_one(reader, routed.id, now=now, until=now + timedelta(seconds=30))
            assert mine.claimed
            assert mine.order is not None
            await _change(reader, mine.order, OrderStatus.ROUTING, attempts=1)
            await ownership.release(reader)
            claim = await ownership.claim_one(other, held.id, now=now, until=now + timedelta(seconds=30))
            assert claim.claimed  # `other` is alive for 30 s
            assert claim.order is not None
            gone = await ownership.claim_one(reader, ended.id, now=now, until=now + timedelta(seconds=30))
            assert gone.order is not None
            await _change(reader, gone.order, OrderStatus.FAILED, error="no route")

            expected = {order_id: await reader.get(order_id) for order_id in (free.id, routed.id, held.id, ended.id)}
            claims = await ownership.claim_many(
                worker,
                [free.id, routed.id, held.id, ended.id, "no-such-order"],
                now=now,
                until=now + timedelta(seconds=30),
            )

            assert {order_id for order_id, found in claims.items() if found.claimed} == {free.id, routed.id}
            assert claims["no-such-order"] == ownership.Claim(None, False)
            for order_id, stored in expected.items():
                assert stored is not None
                read = claims[order_id].order
                assert read is not None
                if claims[order_id].claimed:
                    # The claim made it this worker's, one version on.
                    stored = stored.evolve(owner="worker", version=stored.version + 1)
                assert read == stored, order_id
                assert read.logs == stored.logs
                assert read.terms == stored.terms
            assert len(expected[routed.id].logs) == 2  # type: ignore[union-attr]
            # Its own orders are its own again; a lapsed owner's are taken over.
            again = await ownership.claim_many(worker, [free.id], now=now, until=now + timedelta(seconds=30))
            assert again[free.id].claimed
            later = now + timedelta(seconds=60)
            taken = await ownership.claim_many(worker, [held.id], now=later, until=later + timedelta(seconds=30))
            assert taken[held.id].claimed
            # Given up before a delayed turn (one statement too): free for a live competitor at once.
            assert await ownership.release_one(worker, free.id)
            assert not await ownership.release_one(worker, free.id)
            assert not await ownership.release_one(worker, ended.id)
            theirs = await ownership.claim_many(other, [free.id], now=now, until=now + timedelta(seconds=30))
            assert theirs[free.id].claimed
        finally:
            for store in (worker, other, reader):
                await store.close()


async def test_claims_are_planned_once_per_connection_and_stay_keyed_as_the_table_grows() -> None:
    # Planning each execution afresh cost PostgreSQL more than running the statements (0.3 ms a group
    # commit, 0.38 ms a claim); a plan made once on an empty table must still find rows by key later.
    async with postgres_schema() as url:
        worker = OrderStore(url, owner_id="worker")
        await worker.open()
        try:
            now = utc_now()
            until = now + timedelta(seconds=30)
            first = await insert_owned(worker, 2, seed=4)
            await ownership.release(worker)
            for order in first:  # the plans are made now, on a table of two orders
                claim = await ownership.claim_one(worker, order.id, now=now, until=until)
                assert claim.order is not None
                await _change(worker, claim.order, OrderStatus.ROUTING, attempts=1)
            later = await insert_owned(worker, 3000, seed=5)
            await ownership.release(worker)
            for order in later[-20:]:
                claim = await ownership.claim_one(worker, order.id, now=now, until=until)
                assert claim.claimed
                assert claim.order is not None
                await _change(worker, claim.order, OrderStatus.ROUTING, attempts=1)

            async def plans(connection: Any) -> list[Any]:
                driver = (await connection.get_raw_connection()).driver_connection
                statement = (
                    "SELECT generic_plans, custom_plans, statement FROM pg_prepared_statements "
                    "WHERE statement LIKE '%WITH claimed AS%' AND statement NOT LIKE '%pg_prepared_statements%'"
                )
                return list(await driver.fetch(statement))

            claims = await worker.run_serially(plans)
            assert [(row["custom_plans"], row["generic_plans"] >= 20) for row in claims] == [(0, True)]
            explained = await worker.run_serially(_explain_claim, claims[0]["statement"], [later[0].id])
            assert "Seq Scan on orders" not in explained, explained
            assert "ix_orders_status" not in explained, "rows are found by id, not among every unfinished order"
        finally:
            await worker.close()


async def _explain_claim(connection: Any, statement: str, ids: list[str]) -> str:
    """The claim's plan as the kept connection runs it: prepared there, the plan it keeps (a generic one)."""
    types = "text[], text, text[], timestamptz, timestamptz, boolean"
    return await _explain(connection, statement, types, f"{_ids(ids)}, 'worker', ARRAY['PENDING'], now(), now(), false")


def _ids(ids: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{order_id}'" for order_id in ids) + "]::text[]"


async def _explain(connection: Any, statement: str, types: str, arguments: str) -> str:
    driver = (await connection.get_raw_connection()).driver_connection
    await driver.execute(f"PREPARE plan_check ({types}) AS {statement}")
    try:
        rows = await driver.fetch(f"EXPLAIN (COSTS OFF) EXECUTE plan_check({arguments})")
    finally:
        await driver.execute("DEALLOCATE plan_check")
    return "\n".join(row[0] for row in rows)


async def test_the_group_commit_finds_its_rows_by_id_in_a_grown_table() -> None:
    # Its rows arrive as one JSON parameter (engine/storage/json_rows.py); the update must still look
    # each order up by its key, not scan `orders`, with the plan the writer's kept connection keeps.
    async with postgres_schema() as url:
        writer = OrderStore(url, owner_id="writer")
        await writer.open()
        try:
            orders = await insert_owned(writer, 3000, seed=6)
            for order in orders[:20]:
                await _change(writer, order, OrderStatus.ROUTING, attempts=1)
            explained = await writer.run_serially(_explain_group_commit, [orders[0].id])
            assert "Seq Scan on orders" not in explained, explained
            assert "Index Cond: ((id)::text = ANY" in explained, explained
        finally:
            await writer.close()


async def _explain_group_commit(connection: Any, ids: list[str]) -> str:
    statement = postgres_write(POSTGRES_MARK, guarded=True)
    types = "jsonb, text[], text, jsonb, jsonb, text[]"
    return await _explain(connection, statement, types, f"'[]', {_ids(ids)}, 'writer', '[]', '[]', ARRAY[]::text[]")
