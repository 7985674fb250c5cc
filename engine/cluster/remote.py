"""The cluster queue as the engine sees it in a producer (the desk): orders go to workers, never run here.

It fits the engine's `OrderQueue` protocol so the desk keeps one engine API; what differs is
async (`check` before storing, `enqueue` after) and the engine calls those first. `run` never
starts an attempt: it keeps the cluster's figures fresh for the status bar.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from engine.cluster.config import ClusterConfig, ClusterUnavailable
from engine.cluster.producer import UpdateFollower
from engine.cluster.queue import ClusterProducer, ClusterStats
from engine.domain import Order, OrderUpdate
from engine.queue import Handler, QueueSettings, QueueStats
from engine.storage import OrderStore

log = logging.getLogger(__name__)

REFRESH_S = 0.5
FOLLOW_BATCH_S = 0.05
FOLLOW_BATCH_LIMIT = 500


class ClusterQueue:
    runs_orders = False

    def __init__(self, config: ClusterConfig, settings: QueueSettings) -> None:
        self.config = config
        self.settings = settings
        self.producer = ClusterProducer(config)
        self.latest: ClusterStats | None = None
        self.problem: str | None = None
        self._store: OrderStore | None = None
        self._publish: Callable[[OrderUpdate], None] | None = None

    async def check(self) -> None:
        await self.producer.check()

    async def enqueue(self, order_ids: Sequence[str]) -> None:
        await self.producer.enqueue(order_ids)

    def add(self, order_id: str) -> None:
        """Orders reach the cluster through `enqueue`; a resumed order already has its job."""

    def add_after(self, order_id: str, delay_s: float) -> None:
        """Retries are the workers' business in cluster mode."""

    def attach(self, store: OrderStore, publish: Callable[[OrderUpdate], None]) -> None:
        """Where the workers' updates go: each heard message, with its order as stored, to `publish`."""
        self._store = store
        self._publish = publish

    async def run(self, handler: Handler) -> None:
        follower = asyncio.create_task(self._follow(), name="dexdesk-cluster-follower")
        try:
            while True:
                await self.refresh()
                await asyncio.sleep(REFRESH_S)
        finally:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
            await self.producer.close()

    async def _follow(self) -> None:
        """Hear every worker's updates on Redis and hand them on as external ones (the desk's board).

        Messages heard together are passed on together, each order read from the database once
        per batch, so a burst of thousands of updates costs one read per order, not per message.
        """
        if self._store is None or self._publish is None:
            return
        follower = UpdateFollower(self.config.queue_url)
        batch: list[dict[str, Any]] = []
        try:
            async for message in follower.messages(idle_s=FOLLOW_BATCH_S):
                if message is not None:
                    batch.append(message)
                    if len(batch) < FOLLOW_BATCH_LIMIT:
                        continue
                if batch:
                    await self._hand_on(batch)
                    batch = []
        finally:
            await follower.close()

    async def _hand_on(self, batch: list[dict[str, Any]]) -> None:
        assert self._store is not None
        assert self._publish is not None
        orders: dict[str, Order | None] = {}
        for message in batch:
            order_id = str(message.get("orderId"))
            if order_id not in orders:
                orders[order_id] = await self._store.get(order_id)
            order = orders[order_id]
            if order is not None:
                self._publish(OrderUpdate(message, order, (), external=True))

    async def refresh(self) -> None:
        try:
            self.latest = await self.producer.stats()
            self.problem = None
        except ClusterUnavailable as error:
            self.problem = str(error)

    def stats(self) -> QueueStats:
        latest = self.latest
        if latest is None:
            return QueueStats(0, 0, 0, 0, 0, self.config.rate_limit)
        return QueueStats(
            waiting=latest.queued,
            delayed=latest.delayed,
            in_flight=latest.in_flight,
            concurrency=latest.capacity,
            window_used=latest.window_used,
            window_max=latest.window_max,
        )

    @property
    def text(self) -> str:
        """One line for a status bar: the cluster's figures, or why there are none."""
        if self.problem:
            return self.problem
        return self.latest.text if self.latest is not None else f"cluster: connecting to {self.producer.url}"

    def reconfigure(self, settings: QueueSettings) -> None:
        """Concurrency and the rate window belong to the workers (their flags); only remembered here."""
        self.settings = settings
