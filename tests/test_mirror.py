"""The Redis mirror against the real shared Redis: every listener sees every state of its order, in order."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from pathlib import Path

import pytest
from redis.asyncio import Redis

from app.watch import follow_order
from engine.listeners.mirror import RedisMirror
from engine.listeners.mirror_keys import MirrorKeys
from engine.model.domain import OrderUpdate
from engine.model.jsonfmt import dumps
from engine.runtime.engine import engine_settings
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.conftest import running
from tests.faults.listeners import Recorder, is_terminal, namespace
from tests.faults.support import TALLY, ThrowawayRedis, assert_nothing_lost, eventually, free_port
from tests.services import REDIS_URL, require

pytestmark = pytest.mark.redis


def _announced(engine_updates: dict[str, list[str]]) -> object:
    def listener(update: OrderUpdate) -> None:
        engine_updates[update.order_id].append(dumps(update.message))

    return listener


async def test_every_listener_sees_every_state_of_its_order_in_order(sqlite_url: str) -> None:
    """50 concurrent orders, a SUBSCRIBE listener per order and one PSUBSCRIBE listener.

    Each must hear exactly what the engine announced for the order: nothing missing, nothing out of order.
    """
    require("redis")
    announced: dict[str, list[str]] = defaultdict(list)
    settings = engine_settings(time_scale=0.1, rate_limit=0, seed=11, concurrency=10)
    async with namespace() as prefix, running(sqlite_url, settings) as engine:
        engine.subscribe(_announced(announced))  # type: ignore[arg-type]
        mirror = RedisMirror(REDIS_URL, namespace=prefix)
        mirror.attach(engine)
        recorder = Recorder(REDIS_URL)
        try:
            await recorder.follow_all()
            orders = await engine.submit_many(random_requests(default_catalog(), 50, seed=3))
            for order in orders:
                await recorder.follow(order.id)
            mirror.start()  # the first states waited in the mirror's memory; the rest flow live
            await asyncio.wait_for(engine.wait_idle(), 30)
            await asyncio.wait_for(mirror.flushed(), 10)
            await eventually(
                lambda: all(recorder.per_order[o.id] and is_terminal(recorder.per_order[o.id][-1]) for o in orders),
                "every per-order listener to hear its order's end",
            )
            await eventually(
                lambda: all(len(recorder.everything[o.id]) == len(announced[o.id]) for o in orders),
                "the pattern listener to hear every message",
            )
            client = Redis.from_url(REDIS_URL, decode_responses=True)
            keys = MirrorKeys(prefix)
            for order in orders:
                assert recorder.per_order[order.id] == announced[order.id]
                assert recorder.everything[order.id] == announced[order.id]
                snapshot = await client.hgetall(keys.snapshot(order.id))
                assert snapshot["message"] == announced[order.id][-1]
                assert int(snapshot["seq"]) == len(announced[order.id])
                assert 0 < await client.ttl(keys.snapshot(order.id)) <= 24 * 3600
            assert await client.scard(keys.active) == 0
            await client.aclose()
        finally:
            await recorder.close()
            await mirror.stop()
    assert mirror.dropped == 0
    assert mirror.published == sum(len(lines) for lines in announced.values())


async def test_watch_joining_mid_order_starts_at_its_state_without_gap_or_repeat(sqlite_url: str) -> None:
    require("redis")
    announced: dict[str, list[str]] = defaultdict(list)
    async with (
        namespace() as prefix,
        running(sqlite_url, engine_settings(time_scale=0.1, rate_limit=0, seed=5)) as engine,
    ):
        engine.subscribe(_announced(announced))  # type: ignore[arg-type]
        mirror = RedisMirror(REDIS_URL, namespace=prefix)
        mirror.attach(engine)
        mirror.start()
        await eventually(lambda: mirror.state.connected, "the mirror to connect")
        orders = await engine.submit_many(random_requests(default_catalog(), 8, seed=8))
        watched: dict[str, list[str]] = defaultdict(list)
        watchers = []
        for index, order in enumerate(orders):
            # Join each order at a different point of its life, from PENDING to its end.
            await eventually(lambda o=order, i=index: len(announced[o.id]) > i % 5, "the order to move on")
            watchers.append(
                asyncio.create_task(follow_order(REDIS_URL, MirrorKeys(prefix), order.id, watched[order.id].append))
            )
        finals = await asyncio.wait_for(asyncio.gather(*watchers), 30)
        await mirror.stop()
    for order, final in zip(orders, finals, strict=True):
        lines, expected = watched[order.id], announced[order.id]
        assert lines, "the watcher printed nothing"
        start = expected.index(lines[0])
        assert lines == expected[start:], "a gap or a repeat"
        assert json.loads(lines[-1])["status"] == final


@pytest.mark.slow
@pytest.mark.parametrize(
    ("url", "reason_word"),
    [
        ("redis://:not-the-password@127.0.0.1:{protected}/0", "password"),
        ("redis://127.0.0.1:6379/999", "DB index"),
        ("redis://127.0.0.1:{free}/0", "refused"),
    ],
    ids=["wrong-password", "wrong-database", "nothing-listening"],
)
async def test_refusing_redis_never_touches_an_order_and_memory_stays_bounded(
    sqlite_url: str, tmp_path: Path, url: str, reason_word: str
) -> None:
    require("redis")
    protected = ThrowawayRedis(tmp_path / "redis", extra=("--requirepass", "s3cret"))
    if "{protected}" in url:
        await protected.start()
    url = url.format(free=free_port(), protected=protected.port)
    states = []
    async with running(sqlite_url) as engine:
        mirror = RedisMirror(url, backlog_limit=20, terminal_limit=10, min_backoff_s=0.02, max_backoff_s=0.1)
        mirror.on_state(states.append)
        mirror.attach(engine)
        mirror.start()
        orders = await engine.submit_many(random_requests(default_catalog(), 40, seed=4))
        await asyncio.wait_for(engine.wait_idle(), 30)
        await eventually(lambda: mirror.state.status == "disconnected", "the mirror to report the refusal")
        TALLY.fault(f"Redis refusing ({reason_word})")
        await assert_nothing_lost(engine.store, [order.id for order in orders])
        assert mirror.pending <= 20 + 10
        assert mirror.dropped > 0
        assert mirror.snapshots_dropped > 0
        await mirror.stop()
    await protected.kill()
    disconnected = [state for state in states if state.status == "disconnected"]
    assert reason_word.lower() in (disconnected[0].reason or "").lower()
    assert "disconnected" in disconnected[0].text
    assert disconnected[0].url in disconnected[0].text


@pytest.mark.slow
async def test_redis_down_at_start_gets_every_latest_state_once_it_comes_up(sqlite_url: str, tmp_path: Path) -> None:
    """Publishes beyond the backlog are dropped, but each order's last state still reaches its snapshot."""
    server = ThrowawayRedis(tmp_path / "redis")
    announced: dict[str, list[str]] = defaultdict(list)
    try:
        async with running(sqlite_url) as engine:
            engine.subscribe(_announced(announced))  # type: ignore[arg-type]
            mirror = RedisMirror(server.url, backlog_limit=10, min_backoff_s=0.02, max_backoff_s=0.1)
            mirror.attach(engine)
            mirror.start()
            orders = await engine.submit_many(random_requests(default_catalog(), 30, seed=6))
            await asyncio.wait_for(engine.wait_idle(), 30)
            await eventually(lambda: mirror.state.status == "disconnected", "the mirror to notice Redis is away")
            TALLY.fault("Redis down at start")
            await assert_nothing_lost(engine.store, [order.id for order in orders])
            assert mirror.dropped > 0
            assert mirror.pending <= 10 + 30
            await server.start()
            await eventually(lambda: mirror.state.connected, "the mirror to reconnect")
            await asyncio.wait_for(mirror.flushed(), 10)
            client = Redis.from_url(server.url, decode_responses=True)
            for order in orders:
                snapshot = await client.hget(MirrorKeys().snapshot(order.id), "message")
                assert snapshot == announced[order.id][-1]
            assert await client.scard(MirrorKeys().active) == 0
            await client.aclose()
            await mirror.stop()
    finally:
        await server.kill()
