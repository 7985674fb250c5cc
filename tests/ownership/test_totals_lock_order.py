"""Writers that end orders at the same time never deadlock on the summary's shared totals (PostgreSQL).

Every process's commits add their finished orders to the same few `order_totals` rows. With one
trigger per row (revision 0005) a statement took those rows in the order its orders happened to be
written, so two writers could each hold the row the other wanted; PostgreSQL broke the circle after
`deadlock_timeout`, one second in which both writers' orders stood still (seen in every second
3-worker cluster run). Revision 0009 takes them once per statement, in key order. Real PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg

from engine.model.domain import Direction, Order
from engine.storage import OrderStore
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.conftest import postgres_schema
from tests.faults.support import eventually
from tests.services import POSTGRES_ADMIN_URL

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
_END = "UPDATE \"{}\".orders SET status = 'CONFIRMED', dex = 'raydium', execution_price = 1 WHERE id = ANY($1::text[])"


def _pending(pairs: list[str]) -> list[Order]:
    """PENDING buys on `pairs`, in that order, with ids that sort (and are stored) in the same order."""
    requests = random_requests(default_catalog(), len(pairs), seed=12)
    return [
        request.to_order(NOW).evolve(id=f"00000000-0000-4000-8000-{index:012d}", pair=pair, direction=Direction.BUY)
        for index, (request, pair) in enumerate(zip(requests, pairs, strict=True))
    ]


async def _session() -> asyncpg.Connection:
    """A session of another tool: its search path does not name dexdesk's schema, its statements do."""
    return await asyncpg.connect(POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"))


async def test_two_writers_ending_orders_of_the_same_pairs_in_opposite_orders_do_not_deadlock() -> None:
    first_pair, second_pair = sorted(default_catalog().names)[:2]
    # x: the first totals row (by key), y: the second. The second writer's statement reaches y2 first.
    y2, x2, x1, y1 = _pending([second_pair, first_pair, first_pair, second_pair])
    async with postgres_schema() as url:
        store = OrderStore(url, owner_id="host:1:test")
        await store.open()
        try:
            await store.insert([y2, x2, x1, y1])
        finally:
            await store.close()
        schema = url.rpartition("schema=")[2]
        one, two = await _session(), await _session()
        end = _END.format(schema)
        try:
            held = one.transaction()
            await held.start()
            await one.execute(end, [x1.id])  # one writer holds the first totals row, uncommitted
            pid = two.get_server_pid()
            both = asyncio.create_task(two.execute(end, [y2.id, x2.id]))  # another ends orders of both rows

            async def two_waits_on_a_lock() -> bool:
                wait = await one.fetchval("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", pid)
                return bool(wait == "Lock")

            await eventually(two_waits_on_a_lock, "the second writer to wait for the first totals row")
            # The first writer now wants the second totals row: with per-row triggers the other held it.
            await asyncio.wait_for(one.execute(end, [y1.id]), 10)
            await held.commit()
            await asyncio.wait_for(both, 10)
            confirmed = f"SELECT pair, orders FROM \"{schema}\".order_totals WHERE status = 'CONFIRMED' ORDER BY pair"
            totals = await one.fetch(confirmed)
            notional = await one.fetchval(f'SELECT SUM(notional) FROM "{schema}".order_totals')
        finally:
            await one.close()
            await two.close()
    assert [(row["pair"], row["orders"]) for row in totals] == [(first_pair, 2), (second_pair, 2)]
    assert notional == Decimal(0)  # the orders were ended by hand, without figures: nothing added but counts
