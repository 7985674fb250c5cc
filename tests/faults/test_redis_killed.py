"""Fault 1: Redis SIGKILLed mid-run (and frozen): orders never notice; updates flow again once it is back."""

from __future__ import annotations

import asyncio
import json
import signal
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from app.watch import follow_all
from engine.listeners.mirror import RedisMirror
from engine.listeners.mirror_keys import MirrorKeys
from engine.model.domain import OrderUpdate
from engine.model.jsonfmt import dumps
from engine.runtime.engine import engine_settings
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.conftest import running
from tests.faults.support import TALLY, ThrowawayRedis, assert_nothing_lost, eventually

pytestmark = pytest.mark.slow  # real processes or servers: the slow lane (pytest -m slow)


def _record(announced: dict[str, list[str]]) -> Callable[[OrderUpdate], None]:
    def listener(update: OrderUpdate) -> None:
        announced[update.order_id].append(dumps(update.message))

    return listener


async def _pattern_listeners(url: str) -> int:
    client = Redis.from_url(url)
    try:
        return int(await client.execute_command("PUBSUB", "NUMPAT"))
    finally:
        await client.aclose()


def _in_order(heard: list[str], expected: list[str]) -> bool:
    """`heard` is `expected` with some lines missing (while Redis was dead), never reordered or repeated."""
    position = 0
    for line in heard:
        try:
            position = expected.index(line, position) + 1
        except ValueError:
            return False
    return True


async def test_redis_killed_mid_run_then_restarted(sqlite_url: str, tmp_path: Path) -> None:
    server = ThrowawayRedis(tmp_path / "redis")
    await server.start()
    announced: dict[str, list[str]] = defaultdict(list)
    heard: list[str] = []
    notes: list[str] = []
    listener: asyncio.Task[None] | None = None
    try:
        async with running(sqlite_url, engine_settings(time_scale=0.05, rate_limit=0, seed=5)) as engine:
            engine.subscribe(_record(announced))
            mirror = RedisMirror(server.url, min_backoff_s=0.02, max_backoff_s=0.2)
            mirror.attach(engine)
            mirror.start()
            await eventually(lambda: mirror.state.connected, "the mirror to connect")
            listener = asyncio.create_task(follow_all(server.url, heard.append, notes.append))
            await eventually(lambda: _pattern_listeners(server.url), "`dexdesk watch` to subscribe")

            first = await engine.submit_many(random_requests(default_catalog(), 30, seed=1))
            await eventually(lambda: len(heard) >= 20, "updates to reach the listener")
            await server.kill()
            TALLY.fault("Redis SIGKILLed mid-run")
            await eventually(lambda: mirror.state.status == "disconnected", "the mirror to notice")
            await asyncio.wait_for(engine.wait_idle(), 30)
            await assert_nothing_lost(engine.store, [order.id for order in first])

            await server.start()
            await eventually(lambda: mirror.state.connected, "the mirror to reconnect")
            await eventually(lambda: _pattern_listeners(server.url), "`dexdesk watch` to reconnect", within=20)
            second = await engine.submit_many(random_requests(default_catalog(), 10, seed=2))
            await asyncio.wait_for(engine.wait_idle(), 30)
            await assert_nothing_lost(engine.store, [order.id for order in second])
            await asyncio.wait_for(mirror.flushed(), 10)
            await eventually(
                lambda: all(announced[order.id][-1] in heard for order in second),
                "the listener to hear how every new order ended",
            )
            await mirror.stop()
    finally:
        if listener is not None:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
        await server.kill()

    by_order: dict[str, list[str]] = defaultdict(list)
    for line in heard:
        by_order[json.loads(line)["orderId"]].append(line)
    for order in second:
        assert by_order[order.id] == announced[order.id], "after the restart every state flows, in order"
    for order in first:
        assert _in_order(by_order[order.id], announced[order.id]), "states reordered or repeated"
    assert any("lost Redis" in note for note in notes)


async def test_restarted_empty_redis_gets_active_snapshots_back(sqlite_url: str, tmp_path: Path) -> None:
    """Orders still waiting when Redis comes back empty are put back into the snapshot keys and the active set."""
    server = ThrowawayRedis(tmp_path / "redis")
    await server.start()
    # One attempt start per minute: the first order runs, the other two wait in PENDING (active).
    try:
        async with running(sqlite_url, engine_settings(time_scale=0, rate_limit=1, seed=3)) as engine:
            # An idle mirror notices a dead Redis by its health PING; make that quick for the test.
            mirror = RedisMirror(server.url, min_backoff_s=0.02, max_backoff_s=0.2, health_interval_s=0.1)
            mirror.attach(engine)
            mirror.start()
            orders = await engine.submit_many(random_requests(default_catalog(), 3, seed=4))
            await asyncio.wait_for(engine.wait_terminal(orders[0].id), 10)
            await asyncio.wait_for(mirror.flushed(), 10)
            waiting = [order.id for order in orders[1:]]

            await server.kill()
            TALLY.fault("Redis SIGKILLed and restarted empty")
            await server.start()
            keys = MirrorKeys()
            client = Redis.from_url(server.url, decode_responses=True)
            try:
                await eventually(lambda: client.scard(keys.active), "the mirror to put the active set back", within=20)
                assert set(await client.smembers(keys.active)) == set(waiting)
                for order_id in waiting:
                    snapshot = await client.hgetall(keys.snapshot(order_id))
                    assert json.loads(snapshot["message"])["status"] == "PENDING"
                    assert await client.ttl(keys.snapshot(order_id)) > 0
            finally:
                await client.aclose()
            await mirror.stop()
    finally:
        await server.kill()


async def test_frozen_redis_never_slows_an_order(sqlite_url: str, tmp_path: Path) -> None:
    """SIGSTOP: Redis accepts nothing and answers nothing. Orders finish anyway; after SIGCONT all is sent."""
    server = ThrowawayRedis(tmp_path / "redis")
    await server.start()
    announced: dict[str, list[str]] = defaultdict(list)
    try:
        async with running(sqlite_url) as engine:
            engine.subscribe(_record(announced))
            mirror = RedisMirror(server.url, min_backoff_s=0.02, max_backoff_s=0.2)
            mirror.attach(engine)
            mirror.start()
            await eventually(lambda: mirror.state.connected, "the mirror to connect")
            assert server.process is not None
            server.process.send_signal(signal.SIGSTOP)
            TALLY.fault("Redis frozen (SIGSTOP)")
            try:
                orders = await engine.submit_many(random_requests(default_catalog(), 30, seed=9))
                await asyncio.wait_for(engine.wait_idle(), 10)
                await assert_nothing_lost(engine.store, [order.id for order in orders])
            finally:
                server.process.send_signal(signal.SIGCONT)
            await asyncio.wait_for(mirror.flushed(), 20)
            client = Redis.from_url(server.url, decode_responses=True)
            for order in orders:
                assert await client.hget(MirrorKeys().snapshot(order.id), "message") == announced[order.id][-1]
            await client.aclose()
            await mirror.stop()
    finally:
        await server.kill()
