"""A headless worker: the one order runner (engine/runtime/order_runner.py) fed by the cluster's queue.

Thin wiring: the runner the in-process engine uses, handed to it with the Redis plugs by
app/assembly.py — a BullMQ job per order as its transport (engine/cluster/job_transport.py), the
Redis Lua window as its start gate (engine/cluster/limiter.py), database claims as its holder
(engine/cluster/worker_claims.py) and the order's own job as the watch of a waiting limit order
(engine/cluster/limit_turns.py). Every committed update is published on Redis through the mirror
(`order-updates:{orderId}`). Each job is one order until it is terminal; each delivery of it runs
one turn, and a back-off is the job delayed (BullMQ's delayed set), never a sleep inside it, so
the order is never PENDING without a job.

A job whose worker dies (SIGKILL, power) is handed to another worker by BullMQ's stalled-job
check once its lock lapses (`lease_s`); that worker reads the order's stored state and resumes
it: a SUBMITTED swap is re-sent with its stored signature, which the mock chain's ledger executes
at most once. A job for an order already terminal (a redelivery, a repeated enqueue) does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import replace
from typing import Any

from bullmq import Worker
from bullmq.custom_errors import DelayedError
from redis.asyncio.connection import parse_url
from redis.exceptions import RedisError

from engine.cluster import job_snapshot
from engine.cluster.attempt_slots import JOBS_PER_SLOT, AttemptSlots
from engine.cluster.config import DRAIN_DELAY_S, ClusterConfig, ClusterUnavailable
from engine.cluster.fetching_worker import FetchingWorker
from engine.cluster.job_transport import JobTransport, job_turn
from engine.cluster.queue import ClusterProducer
from engine.cluster.registry import HEARTBEAT_S, WorkerInfo, WorkerRegistry
from engine.cluster.worker_parts import WorkerParts
from engine.listeners.mirror_keys import describe_error
from engine.model.domain import ACTIVE_STATES, Order
from engine.runtime.task_stop import stop_task
from engine.storage import OrderStore, ownership

log = logging.getLogger(__name__)

_JOB_RETRY_S = 1.0
_FULL_PASS_EVERY = 6


def bullmq_connection(url: str, socket_timeout_s: float) -> dict[str, Any]:
    """Connection options for bullmq's own clients, with a socket timeout above the blocking wait."""
    options = dict(parse_url(url))
    options.pop("connection_class", None)
    options.update(socket_timeout=socket_timeout_s, socket_connect_timeout=2.0)
    return options


def lock_options(lease_s: float) -> dict[str, int]:
    """BullMQ's lock and stalled check from one lease: a dead worker's job moves on within about `lease_s`.

    The lock lapses `lockDuration` after its last renewal. The stalled check marks the active
    jobs, and the next check moves the marked ones whose lock is gone back to the head of the
    queue; the checks share one guard key, so two of them can be up to two intervals apart.
    Half a lease of lock plus two quarter-lease intervals: a take-over within the lease.
    """
    lease_ms = int(lease_s * 1000)
    return {
        "lockDuration": max(lease_ms // 2, 500),
        "stalledInterval": max(lease_ms // 4, 250),
        # A job may be taken over any number of times: the order's stored state, not a counter, decides.
        "maxStalledCount": 1_000_000_000,
    }


def log_queue_error(error: object, *_: object) -> None:
    """bullmq's `error` event in one line; a lock renewal that missed its job is not a warning.

    bullmq renews its jobs' locks from a list taken before the renewal's round trip, so a job this
    worker completed or delayed meanwhile (a rate-limited order handed back to the queue) is
    reported as "could not renew lock" (seen in `bench cluster`'s rate-limited run). And a
    lock that did lapse only lets another worker take the job: the order's stored state and its
    owner in the database, not BullMQ's lock, decide who runs it and keep it from running twice.
    """
    if str(error).startswith("could not renew lock for job"):
        log.info("queue: %s (moved on meanwhile, or its lock lapsed; the stored order decides who runs it)", error)
    else:
        log.warning("queue: %s", error)


async def unfinished_ids(store: OrderStore) -> list[str]:
    """Every order not yet ended, oldest first (the order they were submitted in)."""
    found: list[Order] = []
    for status in ACTIVE_STATES:
        found.extend(await store.list_orders(status=status, limit=None))
    return [order.id for order in sorted(found, key=lambda order: order.seq)]


class ClusterWorker:
    def __init__(self, config: ClusterConfig, parts: WorkerParts, *, concurrency: int = 10) -> None:
        """A worker on `parts` (built by app/assembly.py, the one place a runner is made for every mode)."""
        self.config = config
        self.settings = parts.core.settings
        self.concurrency = concurrency
        self.worker_id = uuid.uuid4().hex[:12]
        self.store = parts.core.store
        self.clock = parts.core.clock
        self.hub = parts.core.hub
        self.router = parts.core.router
        self.transitions = parts.core.transitions
        self.mirror = parts.mirror
        self.client = parts.client
        self.limiter = parts.limiter
        self.registry = WorkerRegistry(self.client, config.key_prefix)
        self.info = WorkerInfo.here(self.worker_id, concurrency)
        self.requeued = 0
        self._stopping = parts.stopping
        self._lease_until = parts.lease_until
        self.claims = parts.claims
        self.slots = AttemptSlots(concurrency)
        self.transport = JobTransport(self.store, self.worker_id, self.slots)
        # The runner the in-process engine uses too; only its plugs are the cluster's.
        self.runner = parts.runner
        self._worker: Worker | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._renewal: asyncio.Task[None] | None = None
        self._reconciler: asyncio.Task[None] | None = None
        self._producer = ClusterProducer(config)
        self._queued_on_run: str | None = None  # the Redis (run id) every orphan was last queued on

    async def start(self) -> None:
        """Open storage, re-queue every unfinished order (a no-op for those with a job), start taking jobs."""
        await self.store.open()
        self.mirror.attach(self.hub)
        self.mirror.start()
        # Live before the first job: an order claimed by its first write (a job's copy) has no claim
        # statement to renew the lease with, and must not look abandoned to other workers meanwhile.
        try:
            await ownership.renew(self.store, self._lease_until())
            self.claims.lease_renewed_at = time.monotonic()
        except Exception as error:  # noqa: BLE001  (the renewal loop tries again a third of a lease later)
            log.warning("could not start this worker's lease (%s)", describe_error(error))
        await self._requeue_unfinished()
        options: dict[str, Any] = {
            "connection": bullmq_connection(self.config.queue_url, DRAIN_DELAY_S + 5),
            # Jobs in hand: those attempting (at most `concurrency`, engine/cluster/attempt_slots.py)
            # and those whose outcome is being committed, published and completed, or waiting a slot.
            "concurrency": JOBS_PER_SLOT * self.concurrency,
            "drainDelay": DRAIN_DELAY_S,
            # After Redis comes back, take jobs again within a second (bullmq waits 15 s by default).
            "runRetryDelay": 1000,
            "name": f"dexdesk-{self.worker_id}",
            **lock_options(self.config.lease_s),
        }
        # Completes each job and takes the next in one Redis call (bullmq's Worker takes two), after
        # its order's end is on Redis: in the mirror's pipeline that writes it, when it can.
        self._worker = FetchingWorker(self.config.queue_name, self._process, options, ends=self.mirror)
        self._worker.on("error", log_queue_error)
        self._heartbeat = asyncio.create_task(self._beat(), name="dexdesk-worker-heartbeat")
        self._renewal = asyncio.create_task(self._renew(), name="dexdesk-worker-lease")
        self._reconciler = asyncio.create_task(self._reconcile_every_lease(), name="dexdesk-worker-reconciler")

    async def _reconcile_every_lease(self) -> None:
        """Every lease: no job stays failed, and after a lost Redis every unfinished order nobody owns is queued.

        The stored order is the truth, the queue only a way to it: a Redis restarted empty lost
        jobs (known by its new run id), an outage may have failed some, a producer may have stored
        orders it could not queue. Job id = order id, so an order that has its job keeps just that
        one. The full pass lists every orphan and costs Redis one script call per order, so it
        runs when Redis changed or a pass failed, and otherwise every `_FULL_PASS_EVERY` leases.
        """
        passes = 0
        while True:
            await asyncio.sleep(self.config.lease_s)
            passes += 1
            try:
                await self._producer.retry_failed()
                run_id = await self._producer.server_run_id()
                if run_id != self._queued_on_run or passes % _FULL_PASS_EVERY == 0:
                    queued = await self.reconcile()
                    if run_id != self._queued_on_run and self._queued_on_run is not None:
                        log.info("Redis changed (run id); re-queued %d unfinished orders nobody owns", queued)
                    self._queued_on_run = run_id
            except Exception as error:  # noqa: BLE001  (the next lease tries again, with a full pass)
                self._queued_on_run = None
                log.warning("could not reconcile the queue with the database (%s)", describe_error(error))

    async def reconcile(self) -> int:
        """Queue every unfinished order no live process owns and retry failed jobs; returns how many were queued."""
        orphans = await ownership.orphaned(self.store, self.clock.utc_now())
        if orphans:
            await self._producer.enqueue(orphans)
        await self._producer.retry_failed()
        return len(orphans)

    async def _requeue_unfinished(self) -> None:
        """Orders stored but never queued (a producer lost Redis between the two) get their job now.

        Job id = order id, so orders that already have one are left as they are. Redis being
        down here is not fatal: the worker's own connection waits for it and the next start
        re-queues.
        """
        producer = ClusterProducer(self.config)
        try:
            run_id = await producer.server_run_id()
            unfinished = await unfinished_ids(self.store)
            if unfinished:
                await producer.enqueue(unfinished)
                self.requeued = len(unfinished)
            self._queued_on_run = run_id
        except ClusterUnavailable as error:
            log.warning("could not re-queue unfinished orders: %s", error)
        finally:
            await producer.close()

    async def stop(self) -> None:
        """Finish the attempts in flight (a swap is never abandoned mid-flight), then let go of everything."""
        self._stopping.set()
        if self._worker is not None:
            log.info(
                "stopping: %d job(s) in hand, %d attempt(s) in flight", len(self._worker.jobs), self.slots.attempting
            )
            await self._worker.close()
            self._worker = None
        log.info("stopped taking jobs; closing the mirror and the database")
        for task in (self._heartbeat, self._renewal, self._reconciler):
            if task is not None:
                await stop_task(task)
        await self.claims.close()
        try:
            # Orders handed back to the queue are free for the next worker at once, not after the lease.
            await ownership.release(self.store)
        except Exception:
            log.warning(
                "could not hand back this worker's orders; they are free once its lease runs out", exc_info=True
            )
        with contextlib.suppress(RedisError, OSError):
            await self.registry.leave(self.worker_id)
        await self._producer.close()
        await self.mirror.stop()
        await self.store.close()
        with contextlib.suppress(RedisError, OSError):
            await self.client.aclose()

    async def _renew(self) -> None:
        """Keep this worker's claim on the orders it holds alive: one row, renewed every third of the lease."""
        while True:
            await asyncio.sleep(self.config.lease_s / 3)
            try:
                renewed_at = time.monotonic()
                await ownership.renew(self.store, self._lease_until())
                self.claims.lease_renewed_at = renewed_at
            except Exception as error:  # noqa: BLE001  (tried again at the next third of the lease)
                log.warning("could not renew the lease on this worker's orders (%s)", describe_error(error))

    async def _beat(self) -> None:
        while True:
            lock_owner = self._worker.id if self._worker is not None else ""
            runner = self.runner
            # In flight as the in-process line counts it: attempts holding a slot, not outcomes being committed.
            attempting = self.slots.attempting
            self.info = replace(self.info, in_flight=attempting, done=runner.done, lock_owner=lock_owner)
            try:
                await self.registry.beat(self.info)
            except (RedisError, OSError) as error:
                log.warning("heartbeat missed: %s", error)
            await asyncio.sleep(HEARTBEAT_S)

    async def _process(self, job: Any, token: str) -> str:
        """One turn of the job's order; a job that cannot go on now is retried later, never failed.

        BullMQ parks a job whose processor raises in `failed`, where nothing takes it again: a
        6 s PostgreSQL outage left a quarter of a cluster's orders there, unfinished. The order's
        stored state decides what happens when the job comes back.
        """
        order_id = job_snapshot.order_id_of(job)
        if job.stalledCounter:
            log.info("order %s taken over (its job stalled %d time(s))", order_id, job.stalledCounter)
        # The job's copy of its order is used on its first delivery only: later ones find it stale.
        first = job.attemptsStarted <= 1 and not job.stalledCounter
        stored = job_snapshot.carried(job.data, order_id) if first else None
        turn = job_turn(order_id, self.transport, job, token, stored)
        try:
            while True:
                async with self.slots.held():
                    again = await self.runner.take(turn)
                if again is None:
                    break
                turn = replace(turn, stored=again)  # a retry due at once: this job goes on with the order it holds
        except DelayedError:
            raise
        except Exception as error:  # noqa: BLE001  (one line; the job comes back, the order is not lost)
            log.warning("order %s: %s; its job is tried again in %g s", order_id, describe_error(error), _JOB_RETRY_S)
            await self.transport.hand_back(turn, _JOB_RETRY_S)
        return "done"
