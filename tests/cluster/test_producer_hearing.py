"""A cluster producer reads a worker's order back only where a listener needs it.

Reading every heard order back from the database was most of what hearing the workers cost
`serve --queue` and PostgreSQL; the API's feed needs only the message. Real processes: a
`dexdesk worker`, a throwaway redis-server, a PostgreSQL schema, and an in-process producer engine.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import pytest

from app.wiring import running_engine
from engine.cluster.config import ClusterConfig
from engine.cluster.remote import ClusterQueue
from engine.model.domain import OrderStatus, OrderUpdate, utc_now
from engine.runtime.queue import QueueSettings
from engine.storage import OrderStore, cancels
from tests.cluster.support import cluster
from tests.conftest import insert_owned
from tests.ui.conftest import quiet_settings

pytestmark = pytest.mark.slow

STATES = ["ROUTING", "BUILDING", "SUBMITTED"]  # then the end


class Listener:
    """Records what it hears; `ended(order_id)` waits (with a timeout) until that order's end is heard."""

    def __init__(self) -> None:
        self.heard: list[OrderUpdate] = []
        self._changed = asyncio.Event()

    def __call__(self, update: OrderUpdate) -> None:
        self.heard.append(update)
        self._changed.set()

    async def ended(self, order_id: str) -> list[OrderUpdate]:
        async def look() -> None:
            while not any(update.order_id == order_id and update.status.is_terminal for update in self.heard):
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(look(), 30)
        return [update for update in self.heard if update.order_id == order_id and update.external]


async def test_message_listeners_get_messages_and_ends_with_their_order(tmp_path: Path) -> None:
    async with cluster(tmp_path, "--time-scale", "0", "--rate-limit", "0", "--seed", "7") as running:
        await running.start_worker()
        settings = quiet_settings(running.db_url, queue_url=running.redis.url)
        async with running_engine(settings) as engine:
            messages_only = Listener()
            engine.subscribe(messages_only, snapshots="none")
            first = await engine.submit("SOL-USDC", "1", "BUY")
            *running_states, end = await messages_only.ended(first.id)
            assert [update.message["status"] for update in running_states] == STATES
            assert all(not update.has_order for update in (*running_states, end)), "nobody reads its order"
            with pytest.raises(LookupError, match="snapshots="):
                _ = end.order
            for update in (*running_states, end):
                assert json.loads(update.text, parse_float=Decimal) == update.message, "the worker's bytes, unchanged"
            await asyncio.wait_for(engine.wait_idle(), 10)  # the end heard alone lets the order go
            assert engine.owned_count() == 0

            # Someone waits for the order: its end comes with the order as stored.
            second = await engine.submit("SOL-USDC", "1", "BUY")
            final = await engine.wait_terminal(second.id)
            *running_states, end = await messages_only.ended(second.id)
            assert all(not update.has_order for update in running_states)
            assert end.has_order
            assert end.order == final

            # A listener that reads snapshots (the desk's board) gets every change with its order.
            snapshots = Listener()
            engine.subscribe(snapshots)
            third = await engine.submit("SOL-USDC", "1", "BUY")
            worker_states = await snapshots.ended(third.id)
            assert [update.message["status"] for update in worker_states][:3] == STATES
            assert all(update.order.status is update.status for update in worker_states), "each with its order"


async def test_an_end_never_published_on_redis_reaches_the_producer_once_from_the_database(tmp_path: Path) -> None:
    # No worker: the order waits in the queue, and another process cancels it in the database alone,
    # publishing nothing on Redis (as a worker killed between storing an end and publishing it).
    async with cluster(tmp_path, "--time-scale", "0", "--rate-limit", "0", "--seed", "7") as running:
        settings = quiet_settings(running.db_url, queue_url=running.redis.url)
        async with running_engine(settings) as engine:
            heard = Listener()
            engine.subscribe(heard, snapshots="none")
            order = await engine.submit("SOL-USDC", "1", "BUY")
            other = OrderStore(running.db_url, owner_id="another-process")
            await other.open()
            try:
                [cancelled] = await cancels.cancel(other, [order.id], now=utc_now(), by="another-process")
            finally:
                await other.close()
            assert cancelled.order is not None

            final = await asyncio.wait_for(engine.wait_terminal(order.id), 10)
            assert final.status is OrderStatus.CANCELLED
            ends = [update for update in await heard.ended(order.id) if update.status.is_terminal]
            assert [update.message["status"] for update in ends] == ["CANCELLED"], "heard once"
            assert engine.owned_count() == 0


async def test_an_end_on_its_way_from_redis_is_not_also_announced_from_the_database(tmp_path: Path) -> None:
    # A busy producer reads its messages a little behind the database: the feed shows an end whose
    # message is still on its way. It used to be read back and announced at once, then again when
    # its message came: about a quarter of a busy `serve --queue`'s orders ended twice.
    async with cluster(tmp_path, "--time-scale", "0", "--rate-limit", "0", "--seed", "7") as running:
        store = OrderStore(running.db_url)
        await store.open()
        queue = ClusterQueue(ClusterConfig(running.redis.url), QueueSettings())
        try:
            announced: list[OrderUpdate] = []
            following: set[str] = set()
            await queue.listen(store, announced.append, lambda: sorted(following), lambda _id, _ended: True)
            heard_late, lost = (await insert_owned(store, 2, seed=9))[:2]
            following.update({heard_late.id, lost.id})
            for order in (heard_late, lost):
                [cancelled] = await cancels.cancel(store, [order.id], now=utc_now(), by="another-process")
                assert cancelled.order is not None

            await queue._settle()  # the feed shows both ended: their messages may be on their way
            assert announced == []
            following.discard(heard_late.id)  # one's message came meanwhile (it is no longer followed)
            await queue._settle()  # the other's never did: it is announced from the database, once
            assert [(update.order_id, update.message["status"]) for update in announced] == [(lost.id, "CANCELLED")]
            await queue._settle()
            assert len(announced) == 1
        finally:
            await queue.producer.close()
            await store.close()
