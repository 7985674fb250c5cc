"""The producer side of the cluster queue: BullMQ's `Queue`, one job per order, job id = order id.

Because the job id is the order id, enqueueing an order twice (a producer retrying, a worker
re-queueing unfinished orders at start) adds nothing: BullMQ keeps one job per id. A job needs no
data but `{"orderId": …}`, so any BullMQ client (Node's included) can enqueue an order that is
already stored; a producer's own jobs also carry the order as stored when it will simply start
(engine/cluster/job_snapshot.py), so the worker that takes one first reads nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bullmq import Queue
from redis.exceptions import RedisError

from engine.cluster.config import ClusterConfig, ClusterUnavailable
from engine.cluster.job_snapshot import job_data
from engine.cluster.limiter import ClusterRateLimiter
from engine.cluster.registry import WorkerInfo, WorkerRegistry
from engine.listeners import redis_wire
from engine.listeners.mirror_keys import client_options, describe_error, display_url
from engine.model.domain import Order

JOB_NAME = "order"
_BULK = 500
_ERRORS = (RedisError, OSError)


@dataclass(frozen=True, slots=True)
class ClusterStats:
    """The cluster at a glance: for `dexdesk info`, the desk's status bar and the bench."""

    queued: int
    delayed: int
    active_jobs: int
    workers: tuple[WorkerInfo, ...]
    window_used: int
    window_max: int
    window_s: float

    @property
    def in_flight(self) -> int:
        return sum(worker.in_flight for worker in self.workers)

    @property
    def capacity(self) -> int:
        return sum(worker.concurrency for worker in self.workers)

    @property
    def text(self) -> str:
        window = f"{self.window_used}/{self.window_max} per {self.window_s:g} s" if self.window_max else "no rate limit"
        return (
            f"cluster: {len(self.workers)} worker{'s' if len(self.workers) != 1 else ''} alive, "
            f"{self.queued} queued, {self.in_flight} in flight, window {window}"
        )


def job_for(order_id: str, stored: Order | None = None) -> dict[str, Any]:
    # Completed jobs are removed (the database keeps the order); a re-queue of a finished order
    # then makes a job the worker completes at once, having found the order terminal.
    return {"name": JOB_NAME, "data": job_data(order_id, stored), "opts": {"jobId": order_id, "removeOnComplete": True}}


class ClusterProducer:
    """Enqueues stored orders; `check()` first, so an order is never stored when it cannot be queued."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.url = display_url(config.queue_url)
        # Fail fast: a producer must answer "Redis is down" now, not after bullmq's 20 retries.
        self.client = redis_wire.from_url(config.queue_url, decode_responses=True, **client_options())
        self.queue = Queue(config.queue_name, {"connection": self.client})
        self.registry = WorkerRegistry(self.client, config.key_prefix)
        self.limiter = ClusterRateLimiter(self.client, config.key_prefix, config.rate_limit, config.rate_window_s)

    def unavailable(self, error: BaseException, consequence: str) -> ClusterUnavailable:
        return ClusterUnavailable(f"queue: Redis at {self.url} is unreachable ({describe_error(error)}); {consequence}")

    async def check(self) -> None:
        try:
            await self.client.ping()
        except _ERRORS as error:
            raise self.unavailable(error, "no order was stored") from None

    async def enqueue(self, order_ids: Sequence[str]) -> None:
        """Add one job per order, in order; raises ClusterUnavailable (the orders stay stored, PENDING)."""
        await self._add([job_for(order_id) for order_id in order_ids])

    async def enqueue_stored(self, orders: Sequence[Order]) -> None:
        """`enqueue` for orders just stored: each job carries its order as stored (engine/cluster/job_snapshot.py)."""
        await self._add([job_for(order.id, order) for order in orders])

    async def _add(self, jobs: list[dict[str, Any]]) -> None:
        try:
            for start in range(0, len(jobs), _BULK):
                await self.queue.addBulk(jobs[start : start + _BULK])
        except _ERRORS as error:
            raise self.unavailable(
                error,
                f"{len(jobs)} order(s) are stored PENDING but not queued; "
                "a worker queues them when it starts (dexdesk worker)",
            ) from None

    async def server_run_id(self) -> str:
        """The Redis server process's random id: it changes on every restart, and a restart may have emptied it."""
        try:
            info = await self.client.info("server")
        except _ERRORS as error:
            raise self.unavailable(error, "the queue cannot be checked now") from None
        return str(info.get("run_id", ""))

    async def retry_failed(self) -> None:
        """Move every job in `failed` back to waiting; its order decides, when it runs, whether anything is left."""
        try:
            await self.queue.retryJobs({"state": "failed"})
        except _ERRORS as error:
            raise self.unavailable(error, "failed jobs stay failed until the next try") from None

    async def stats(self) -> ClusterStats:
        try:
            counts = await self.queue.getJobCounts("waiting", "prioritized", "delayed", "active")
            workers = await self.registry.alive()
            used = await self.limiter.used()
        except _ERRORS as error:
            raise self.unavailable(error, "cluster figures unknown") from None
        return ClusterStats(
            queued=int(counts.get("waiting", 0)) + int(counts.get("prioritized", 0)),
            delayed=int(counts.get("delayed", 0)),
            active_jobs=int(counts.get("active", 0)),
            workers=tuple(workers),
            window_used=used,
            window_max=self.config.rate_limit,
            window_s=self.config.rate_window_s,
        )

    async def close(self) -> None:
        with contextlib.suppress(*_ERRORS):
            await self.queue.close()
        with contextlib.suppress(*_ERRORS):
            await self.client.aclose()
