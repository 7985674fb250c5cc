"""Issue 16 item 3: orders that end while Redis is frozen are repaired by the next mirror, and
`watch ID --db` does not wait forever on an order the database has finished.

A throwaway redis-server is frozen with SIGSTOP (never the shared one) while a run finishes and
its process stops; Redis is then left with PENDING/ROUTING snapshots in `{ns}:active`.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest
from redis.asyncio import Redis

from engine.listeners.mirror import RedisMirror
from engine.listeners.mirror_keys import MirrorKeys
from engine.runtime.engine import engine_settings
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.conftest import running
from tests.faults.hardening import HARDENING, dexdesk
from tests.faults.support import TALLY, ThrowawayRedis, eventually

pytestmark = pytest.mark.slow  # real processes or servers: the slow lane (pytest -m slow)

NAMESPACE = "repair"
SETTINGS = engine_settings(time_scale=0, rate_limit=0, seed=9)


async def _stale(client: Redis, keys: MirrorKeys) -> dict[str, str]:
    """Active ids and their snapshot's status."""
    members = [member.decode() for member in await client.smembers(keys.active)]  # type: ignore[misc]
    return {member: (await client.hget(keys.snapshot(member), "status") or b"").decode() for member in members}


async def test_orders_that_ended_while_redis_was_frozen_are_repaired(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'orders.db'}"
    server = ThrowawayRedis(tmp_path / "redis")
    await server.start()
    keys = MirrorKeys(NAMESPACE)
    client = Redis.from_url(server.url)
    try:
        async with running(url, SETTINGS) as engine:
            mirror = RedisMirror(server.url, namespace=NAMESPACE, min_backoff_s=0.05)
            mirror.attach(engine)
            mirror.start()
            orders = await engine.submit_many(random_requests(default_catalog(), 60, seed=2))
            await asyncio.wait_for(mirror.flushed(), 10)
            assert server.process is not None
            server.process.send_signal(signal.SIGSTOP)
            TALLY.fault("Redis frozen (SIGSTOP) while orders end")
            HARDENING.faults += 1
            await asyncio.wait_for(engine.wait_idle(), 60)
        await asyncio.wait_for(mirror.stop(flush_timeout_s=0.5), 5)
        server.process.send_signal(signal.SIGCONT)
        stale = await _stale(client, keys)
        assert stale, "the frozen Redis should still list the run's orders as active"
        assert set(stale.values()) <= {"PENDING", "ROUTING", "BUILDING", "SUBMITTED"}

        # A late listener with --db is told the end at once, instead of waiting forever.
        some_id = next(iter(stale))
        watched = await asyncio.to_thread(
            dexdesk,
            tmp_path,
            "--redis",
            server.url,
            "--db",
            url,
            "watch",
            some_id,
            timeout=30,
            DEXDESK_REDIS_PREFIX=NAMESPACE,
        )
        assert watched.returncode in (0, 1), watched.stderr
        assert json.loads(watched.stdout.strip().splitlines()[-1])["status"] in ("CONFIRMED", "FAILED")

        # The next process that mirrors to this Redis repairs the rest from the database.
        async with running(url, SETTINGS) as engine:
            mirror = RedisMirror(server.url, namespace=NAMESPACE)
            mirror.attach(engine)
            mirror.repair_from(engine.order)
            mirror.start()
            await eventually(lambda: mirror.repaired >= len(stale) - 1, "the repair", within=20)
            await asyncio.wait_for(mirror.flushed(), 10)
        await mirror.stop()
        assert await client.scard(keys.active) == 0  # type: ignore[misc]
        for order in orders:
            status = (await client.hget(keys.snapshot(order.id), "status") or b"").decode()
            assert status in ("CONFIRMED", "FAILED"), (order.id, status)
    finally:
        if server.process is not None and server.process.returncode is None:
            server.process.send_signal(signal.SIGCONT)
        await client.aclose()
        await server.kill()
