"""A command sent after an order's updates (a cluster worker's job completion) runs on Redis after the last of them.

Against the real shared Redis (a namespace of its own) and a port nothing answers on; the cluster's
own check, on Redis's MONITOR, is tests/cluster/test_end_before_ack.py.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from redis.asyncio import Redis

from engine.listeners.mirror import RedisMirror
from engine.listeners.mirror_riders import NotCarried
from engine.model.domain import Direction, Order, OrderStatus, OrderUpdate, update_message
from tests.faults.support import ThrowawayRedis, eventually, free_port
from tests.services import REDIS_URL, require

pytestmark = pytest.mark.redis


def _update(order_id: str, status: OrderStatus) -> OrderUpdate:
    moment = datetime(2026, 12, 7, tzinfo=UTC)
    order = Order(
        id=order_id,
        seq=1,
        pair="SOL-USDC",
        direction=Direction.BUY,
        amount=Decimal(1),
        status=status,
        created_at=moment,
        updated_at=moment,
    )
    return OrderUpdate(update_message(order), order, ())


async def test_a_command_sent_after_an_orders_end_sees_the_end_on_redis() -> None:
    require("redis")
    mirror = RedisMirror(REDIS_URL, namespace=f"dexdesk-test-riders-{uuid.uuid4().hex}")
    order_id = str(uuid.uuid4())
    snapshot = mirror.keys.snapshot(order_id)
    for status in (OrderStatus.ROUTING, OrderStatus.BUILDING, OrderStatus.CONFIRMED):
        mirror(_update(order_id, status))
    # Asked before the mirror has written anything: the command waits for the order's last update.
    reply = asyncio.create_task(mirror.send_after(order_id, ("HMGET", snapshot, "status", "seq"), 5.0))
    mirror.start()
    try:
        assert await asyncio.wait_for(reply, 10) == [b"CONFIRMED", b"3"]
        assert mirror.published == 3
        with pytest.raises(NotCarried):  # nothing of it is left to write: the caller sends on its own
            await mirror.send_after(order_id, ("GET", snapshot), 5.0)
    finally:
        await mirror.stop()
        client = Redis.from_url(REDIS_URL)
        await client.delete(snapshot)
        await client.aclose()


async def test_a_command_no_write_takes_in_time_is_given_back_to_its_sender() -> None:
    mirror = RedisMirror(f"redis://127.0.0.1:{free_port()}/0", min_backoff_s=0.05, max_backoff_s=0.05)
    order_id = str(uuid.uuid4())
    mirror(_update(order_id, OrderStatus.CONFIRMED))
    mirror.start()
    try:
        started = time.monotonic()
        with pytest.raises(NotCarried):
            await mirror.send_after(order_id, ("GET", "anything"), 0.3)
        assert 0.3 <= time.monotonic() - started < 3
    finally:
        await mirror.stop(flush_timeout_s=0.2)


async def test_a_command_waiting_when_the_mirror_stops_is_given_back_to_its_sender() -> None:
    mirror = RedisMirror(f"redis://127.0.0.1:{free_port()}/0", min_backoff_s=0.05, max_backoff_s=0.05)
    order_id = str(uuid.uuid4())
    mirror(_update(order_id, OrderStatus.CONFIRMED))
    mirror.start()
    waiting = asyncio.create_task(mirror.send_after(order_id, ("GET", "anything"), 30.0))
    await mirror.stop(flush_timeout_s=1.0)  # waits for the first connect (which fails): the command is queued
    with pytest.raises(NotCarried):
        await asyncio.wait_for(waiting, 5)


async def test_a_command_never_runs_before_an_end_redis_refused_for_want_of_the_script(tmp_path: Path) -> None:
    """A pipeline runs every command whatever an earlier one answered: after `SCRIPT FLUSH` the end must still land."""
    server = ThrowawayRedis(tmp_path / "redis")
    await server.start()
    admin = Redis.from_url(server.url)
    mirror = RedisMirror(server.url)
    mirror.start()
    try:
        await eventually(lambda: mirror.state.status == "connected", "the mirror to connect")
        await admin.script_flush()  # the mirror's publish script is gone; its digest would be refused
        order_id = str(uuid.uuid4())
        mirror(_update(order_id, OrderStatus.CONFIRMED))
        status = await mirror.send_after(order_id, ("HGET", mirror.keys.snapshot(order_id), "status"), 5.0)
        assert status == b"CONFIRMED"
    finally:
        await mirror.stop()
        await admin.aclose()
        await server.kill()
