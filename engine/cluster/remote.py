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

from redis.exceptions import RedisError

from engine.cluster.config import ClusterConfig, ClusterUnavailable
from engine.cluster.producer import TERMINAL_NAMES, UpdateFollower
from engine.cluster.queue import ClusterProducer, ClusterStats
from engine.listeners.mirror_keys import describe_error
from engine.model.domain import Order, OrderUpdate
from engine.runtime.coordination import external_update
from engine.runtime.queue import QueueSettings, QueueStats
from engine.runtime.task_stop import stop_task
from engine.storage import OrderStore, feed_reads, ownership
from engine.storage.change_feed import FeedCursor

log = logging.getLogger(__name__)

REFRESH_S = 0.5
FOLLOW_BATCH_S = 0.05
FOLLOW_BATCH_LIMIT = 500
SETTLE_S = 1.0


class ClusterQueue:
    """A cluster producer's queue (a `ProducerQueue`): orders go to the workers, checked first and enqueued after."""

    def __init__(self, config: ClusterConfig, settings: QueueSettings) -> None:
        self.config = config
        self.settings = settings
        self.producer = ClusterProducer(config)
        self.latest: ClusterStats | None = None
        self.problem: str | None = None
        self._store: OrderStore | None = None
        self._publish: Callable[[OrderUpdate], None] | None = None
        self._following: Callable[[], Sequence[str]] = list
        self._wants_order: Callable[[str, bool], bool] = lambda _order_id, _ended: True
        self._follower: UpdateFollower | None = None
        self._cursor = FeedCursor(0)
        # Followed orders the feed showed ended at the last look, their end not heard yet.
        self._ended_unheard: set[str] = set()

    async def check(self) -> None:
        await self.producer.check()

    async def enqueue(self, orders: Sequence[Order]) -> None:
        await self.producer.enqueue_stored(orders)

    def add(self, order_id: str) -> None:
        """Orders reach the cluster through `enqueue`; a resumed order already has its job."""

    def add_after(self, order_id: str, delay_s: float) -> None:
        """Retries are the workers' business in cluster mode (their transport delays the order's job)."""

    def upcoming(self, count: int) -> list[str]:
        """Nothing waits here: the line is the workers' queue."""
        return []

    def discard(self, order_ids: set[str]) -> None:
        """Nothing waits here: a worker that takes a cancelled order's job re-checks the order and drops it."""

    def start_delay(self, count: int) -> float:
        """The cluster's shared window is not projected here: the workers' limiter decides."""
        return 0.0

    def outcome_queued(self) -> None:
        """No attempt runs here, so no slot is held."""

    async def drain_in_flight(self) -> None:
        """The workers' attempts are theirs to finish."""

    async def abandon_in_flight(self) -> None:
        """The workers' attempts are theirs to finish."""

    async def listen(
        self,
        store: OrderStore,
        publish: Callable[[OrderUpdate], None],
        following: Callable[[], Sequence[str]],
        wants_order: Callable[[str, bool], bool],
    ) -> None:
        """Subscribe to the workers' updates now, before anything is submitted, and read the feed from here.

        A worker at time scale 0 can end an order within milliseconds of its job: a subscription
        still being confirmed would miss it, and `dexdesk submit` would wait forever. What is missed
        anyway (Redis dropping the subscription) is found in the database's change feed.
        """
        self._store = store
        self._publish = publish
        self._following = following
        self._wants_order = wants_order
        self._cursor = await feed_reads.feed_cursor_now(store)
        self._follower = UpdateFollower(self.config.queue_url)
        try:
            await self._follower.start()
        except (RedisError, OSError) as error:
            # The follower reconnects on its own; the change feed covers the gap meanwhile.
            log.info("update feed not yet heard (%s); reading the database meanwhile", describe_error(error))

    async def run(self) -> None:
        """No attempt runs here (the workers' runners do): hear their updates, keep the cluster's figures fresh."""
        follower = asyncio.create_task(self._follow(), name="dexdesk-cluster-follower")
        try:
            while True:
                await self.refresh()
                await asyncio.sleep(REFRESH_S)
        finally:
            await stop_task(follower)
            await self.producer.close()

    async def _follow(self) -> None:
        """Hear every worker's updates on Redis and hand them on as external ones (the desk's board).

        Messages heard together are passed on together. The orders they need read back (ends, or
        all while a listener wants snapshots) are read from the database once per batch, so a
        burst of thousands of updates costs one read per order, not per message. In a quiet
        moment, at most once a `SETTLE_S`, the change feed says which followed orders ended unheard.
        """
        follower = self._follower
        if self._store is None or self._publish is None or follower is None:
            return
        batch: list[tuple[dict[str, Any], str]] = []
        loop = asyncio.get_running_loop()
        settled_at = loop.time()
        try:
            async for message in follower.messages_with_text(idle_s=FOLLOW_BATCH_S):
                if message is not None:
                    batch.append(message)
                    if len(batch) < FOLLOW_BATCH_LIMIT:
                        continue
                if batch:
                    try:
                        await self._hand_on(batch)
                    except Exception as error:  # noqa: BLE001  (the change feed still reports the ends)
                        log.warning("could not read %d heard updates' orders (%s)", len(batch), describe_error(error))
                    batch = []
                if message is None and loop.time() - settled_at >= SETTLE_S:
                    settled_at = loop.time()
                    await self._settle()
        finally:
            await follower.close()

    async def _settle(self) -> None:
        """Publish the followed orders the feed has shown ended for a whole `SETTLE_S` with their end unheard.

        An end the feed shows now is usually still on its way from Redis (a busy producer reads its
        messages a little behind): publishing it from the database at once read back and announced
        twice about a quarter of a busy `serve --queue`'s orders. So an end waits one look: if the
        order is still followed at the next look, its message was lost (a Redis reconnect) and the
        stored order is published.
        """
        assert self._store is not None
        assert self._publish is not None
        try:
            changed, self._cursor = await feed_reads.changes_since(self._store, self._cursor)
            following = set(self._following())
            overdue = [order_id for order_id in self._ended_unheard if order_id in following]
            self._ended_unheard = {order.id for _mark, order in changed if order.is_terminal and order.id in following}
            for done, order_id in enumerate(overdue):
                try:
                    # Read whole (the feed's rows carry no logs): the end is shown with its reason.
                    stored = await self._store.get(order_id)
                except Exception:
                    self._ended_unheard.update(overdue[done:])  # still overdue at the next look
                    raise
                if stored is not None:
                    self._publish(external_update(stored))
        except Exception as error:  # noqa: BLE001  (a database hiccup: the next quiet moment looks again)
            log.warning("could not read the database's change feed (%s); looking again", describe_error(error))

    async def _hand_on(self, batch: list[tuple[dict[str, Any], str]]) -> None:
        """Publish a batch of heard messages, each with its order read back where `wants_order` says so.

        Reading every heard order back was most of what hearing the workers cost the producer and
        PostgreSQL: `serve --queue`'s feed needs only the message, while `submit` waiting for its
        order and the desk's board show the order itself.
        """
        assert self._store is not None
        assert self._publish is not None
        wanted = [
            self._wants_order(str(message.get("orderId")), message.get("status") in TERMINAL_NAMES)
            for message, _ in batch
        ]
        read_back = [message for (message, _), read in zip(batch, wanted, strict=True) if read]
        ids = list(dict.fromkeys(str(message.get("orderId")) for message in read_back))
        # One transaction for the whole batch: reading order by order was 37 % of a producer's profile.
        orders = {order.id: order for order in await ownership.read_orders(self._store, ids)} if ids else {}
        for (message, text), read in zip(batch, wanted, strict=True):
            if not read:
                try:
                    self._publish(OrderUpdate.heard(message, text))
                except (KeyError, ValueError):
                    log.debug("an update message without a valid order id, status or timestamp: %s", text)
                continue
            order = orders.get(str(message.get("orderId")))
            if order is not None:
                self._publish(OrderUpdate(message, order, (), external=True, text=text))

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
