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
from engine.model.domain import OrderUpdate
from tests.cluster.support import cluster
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
