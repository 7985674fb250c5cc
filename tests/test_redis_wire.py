"""Commands packed by hiredis go over the wire byte for byte as redis-py packs them, against the real Redis."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError
from redis.exceptions import TimeoutError as RedisTimeoutError

from engine.cluster.fetching_worker import FetchingWorker
from engine.cluster.worker import bullmq_connection
from engine.listeners import redis_wire
from tests.faults.support import ThrowawayRedis
from tests.services import REDIS_URL, require

pytestmark = pytest.mark.redis

_COMMANDS: list[tuple[Any, ...]] = [
    ("SET", "plain", "value"),
    ("HSET", "snapshot", "message", '{"status":"CONFIRMED","price":"101.25"}', "pid", 42),
    ("EVALSHA", "0" * 40, 3, "k1", "k2", "k3", -7, 10**30, 0.1, 1e16, 5e-324, float("inf")),
    ("SET", "ünïcødé ключ", "значение €"),
    ("SET", b"raw\x00bytes", b"\xff\xfe"),
    ("CONFIG GET", "maxmemory"),  # a name with a space: redis-py splits it
    ("SET", bytearray(b"array"), memoryview(b"view")),  # types hiredis does not take
]


def _pair(**options: Any) -> tuple[Connection, Connection]:
    return Connection(**options), redis_wire.PackedConnection(**options)


@pytest.mark.parametrize("command", _COMMANDS, ids=lambda command: str(command[0]))
def test_a_command_packs_to_the_bytes_redis_py_sends(command: tuple[Any, ...]) -> None:
    plain, packed = _pair()
    assert b"".join(packed.pack_command(*command)) == b"".join(plain.pack_command(*command))


def test_a_pipeline_packs_to_the_bytes_redis_py_sends() -> None:
    plain, packed = _pair()
    assert b"".join(packed.pack_commands(_COMMANDS)) == b"".join(plain.pack_commands(_COMMANDS))


@pytest.mark.parametrize("value", [True, None, object()], ids=["bool", "None", "object"])
def test_what_redis_py_refuses_is_refused_with_its_message(value: object) -> None:
    plain, packed = _pair()
    with pytest.raises(DataError) as expected:
        plain.pack_command("SET", "key", value)
    with pytest.raises(DataError) as refused:
        packed.pack_command("SET", "key", value)
    assert str(refused.value) == str(expected.value)


def test_another_encoding_is_packed_the_redis_py_way() -> None:
    plain, packed = _pair(encoding="latin-1")
    assert b"".join(packed.pack_command("SET", "clé", "été")) == b"".join(plain.pack_command("SET", "clé", "été"))


def test_each_url_scheme_keeps_its_transport() -> None:
    cases = {
        "redis://127.0.0.1:6379/0": Connection,
        "rediss://127.0.0.1:6379/0": SSLConnection,
        "unix:///run/redis.sock": UnixDomainSocketConnection,
    }
    for url, transport in cases.items():
        made = redis_wire.from_url(url).connection_pool.connection_class
        assert issubclass(made, transport), url
        assert made is redis_wire.packed(transport)


async def test_values_come_back_as_stored_through_the_real_redis() -> None:
    require("redis")
    client = redis_wire.from_url(REDIS_URL, decode_responses=True)
    key = f"dexdesk-test:wire:{uuid.uuid4().hex}"
    try:
        async with client.pipeline(transaction=False) as pipe:
            pipe.hset(key, mapping={"text": "значение €", "count": 7, "ratio": 0.1})
            pipe.hgetall(key)
            _, stored = await pipe.execute()
        assert stored == {"text": "значение €", "count": "7", "ratio": "0.1"}
        assert await client.eval("return ARGV[1] .. ARGV[2]", 0, "ключ", 10**20) == "ключ100000000000000000000"
    finally:
        await client.delete(key)
        await client.aclose()


async def test_a_workers_bullmq_clients_pack_by_hiredis() -> None:
    require("redis")

    async def processor(*_: object) -> None:
        return None

    options = {"connection": bullmq_connection(REDIS_URL, 5.0), "autorun": False}
    worker = FetchingWorker(f"dexdesk-test-wire-{uuid.uuid4().hex}", processor, options)
    try:
        for client in (worker.client, worker.bclient):
            assert client.connection_pool.connection_class is redis_wire.PackedConnection
        assert await worker.client.ping()
    finally:
        await worker.close()


async def test_a_write_the_socket_takes_at_once_runs_no_task_of_its_own() -> None:
    """redis-py's `asyncio.wait_for` around every write made a task per command or pipeline (Python 3.11)."""
    require("redis")
    loop = asyncio.get_running_loop()
    made: list[object] = []
    factory = loop.get_task_factory()

    def counting(this: asyncio.AbstractEventLoop, coro: Any, **options: Any) -> asyncio.Task[Any]:
        made.append(coro)
        return asyncio.Task(coro, loop=this, **options)

    client = redis_wire.from_url(REDIS_URL, decode_responses=True, socket_timeout=5.0)
    key = f"dexdesk-test:wire:{uuid.uuid4().hex}"
    try:
        await client.ping()  # connected before counting
        loop.set_task_factory(counting)
        await client.set(key, "first")
        async with client.pipeline(transaction=False) as pipe:
            pipe.append(key, ", second")
            pipe.get(key)
            _, stored = await pipe.execute()
        loop.set_task_factory(factory)
        assert stored == "first, second"
        assert made == []
    finally:
        loop.set_task_factory(factory)
        await client.delete(key)
        await client.aclose()


async def test_a_write_past_the_buffer_to_a_frozen_redis_still_times_out(tmp_path: Path) -> None:
    """Bytes over the transport's high-water mark go redis-py's way: bounded by the socket timeout, no hang."""
    server = ThrowawayRedis(tmp_path / "redis")
    await server.start()
    assert server.process is not None
    client = redis_wire.from_url(server.url, socket_timeout=0.5)
    try:
        await client.ping()
        server.process.send_signal(signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises((RedisTimeoutError, RedisConnectionError)):
            await client.set("big", b"x" * (64 << 20))
        assert time.monotonic() - started < 10
    finally:
        server.process.send_signal(signal.SIGCONT)
        await client.aclose()
        await server.kill()
