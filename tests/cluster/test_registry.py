"""Who is alive in a cluster: the workers beating now, read without walking the Redis keyspace."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from engine.cluster.registry import WorkerInfo, WorkerRegistry
from tests.services import REDIS_URL, require


@pytest.fixture
async def registry() -> AsyncIterator[WorkerRegistry]:
    require("redis")
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    prefix = f"dexdesk:cluster:test-registry-{uuid.uuid4().hex[:8]}"
    try:
        yield WorkerRegistry(client, prefix)
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_beating_workers_are_alive_and_one_whose_key_expired_is_gone(registry: WorkerRegistry) -> None:
    first, second = WorkerInfo.here("worker-a", 10), WorkerInfo.here("worker-b", 4)
    await registry.beat(first)
    await registry.beat(second)
    assert {worker.worker_id for worker in await registry.alive()} == {"worker-a", "worker-b"}

    # worker-b stops beating (SIGKILL): Redis expires its key, and it drops out of the set as it is read.
    await registry.client.delete(registry.key("worker-b"))
    assert [worker.worker_id for worker in await registry.alive()] == ["worker-a"]
    assert await registry.client.smembers(registry.index) == {"worker-a"}

    await registry.beat(second)  # back (SIGCONT): counted again
    assert len(await registry.alive()) == 2


async def test_a_worker_that_leaves_is_gone_at_once_and_no_key_is_left(registry: WorkerRegistry) -> None:
    await registry.beat(WorkerInfo.here("worker-a", 10))
    await registry.leave("worker-a")
    assert await registry.alive() == []
    assert await registry.client.exists(registry.key("worker-a"), registry.index) == 0


async def test_the_orders_keys_beside_it_do_not_count(registry: WorkerRegistry) -> None:
    """The mirror's snapshots and the queue's jobs share the Redis: who is alive reads only the workers' keys."""
    await registry.beat(WorkerInfo.here("worker-a", 10))
    client = registry.client
    await client.mset({f"{registry.key_prefix}:order:{n}": "{}" for n in range(2000)})
    assert [worker.worker_id for worker in await registry.alive()] == ["worker-a"]
