"""Issue 16 item 2: stopping the Redis mirror always finishes within its flush timeout.

A Redis that accepts TCP but never answers (a plain asyncio server that reads and says nothing)
and a refused port, stopped at every point of the connect: right after start, while the server
holds the half-made connection, and while backing off. Then the real command, many times.
"""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from pathlib import Path

import pytest

from engine.listeners.mirror import RedisMirror
from tests.faults.hardening import HARDENING, dexdesk
from tests.faults.support import TALLY, eventually, free_port
from tests.services import REDIS_URL, require

STOP_TIMEOUT_S = 0.5
ITERATIONS = 20


class SilentServer:
    """Accepts connections, reads whatever comes, never answers: a frozen Redis, as the network sees it."""

    def __init__(self) -> None:
        self.accepted = 0
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> SilentServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self.writers.append(writer)
        try:
            while await reader.read(4096):
                pass
        finally:
            writer.close()

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()


def _accepted_more_than(server: SilentServer, count: int) -> bool:
    return server.accepted > count


def _refused(mirror: RedisMirror) -> bool:
    return mirror.state.status == "disconnected"


async def _stop_within(mirror: RedisMirror, what: str) -> None:
    started = time.monotonic()
    try:
        await asyncio.wait_for(mirror.stop(flush_timeout_s=STOP_TIMEOUT_S), STOP_TIMEOUT_S + 2.0)
    except TimeoutError:
        HARDENING.hangs += 1
        raise AssertionError(f"mirror.stop() hung ({what})") from None
    assert time.monotonic() - started <= STOP_TIMEOUT_S + 1.0
    assert mirror.state.status == "stopped"


async def test_stop_finishes_while_a_silent_redis_holds_the_connect() -> None:
    async with SilentServer() as server:
        url = f"redis://127.0.0.1:{server.port}/0"
        for index in range(ITERATIONS):
            mirror = RedisMirror(url, namespace=f"stop{index}")
            mirror.start()
            if index % 2:
                await eventually(functools.partial(_accepted_more_than, server, index // 2), "the silent server")
            await _stop_within(mirror, "silent Redis")
            TALLY.fault("mirror stopped during a connect to a silent Redis")
            HARDENING.faults += 1


async def _turns(count: int) -> None:
    """Let the loop run `count` times round (no timer involved), to stop at every step of a connect."""
    loop = asyncio.get_running_loop()
    for _ in range(count):
        turn = loop.create_future()
        loop.call_soon(turn.set_result, None)
        await turn


async def test_stop_finishes_at_every_step_of_a_connect_to_a_real_redis() -> None:
    """The race behind the hang: a cancel that lands as redis-py's connect completes is swallowed."""
    require("redis")
    run = uuid.uuid4().hex[:12]  # the Redis is shared with other runs of this test, here or in another checkout
    for index in range(60):
        mirror = RedisMirror(REDIS_URL, namespace=f"dexdesk-test-stop-{run}-{index}")
        mirror.start()
        await _turns(index)
        await _stop_within(mirror, f"real Redis, stopped after {index} loop turns")
        HARDENING.faults += 1


async def test_stop_finishes_against_a_refused_port() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    for index in range(ITERATIONS):
        mirror = RedisMirror(url, namespace=f"refused{index}")
        mirror.start()
        if index % 2:
            await eventually(functools.partial(_refused, mirror), "the refusal")
        await _stop_within(mirror, "refused port")
        HARDENING.faults += 1


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["real", "silent", "refused"])
async def test_resume_with_redis_exits_every_time(kind: str, tmp_path: Path) -> None:
    """The reported case: `dexdesk --redis URL resume` with nothing to resume, run again and again."""
    if kind == "real":
        require("redis")
    async with SilentServer() as server:
        redis_url = {
            "real": REDIS_URL,
            "silent": f"redis://127.0.0.1:{server.port}/0",
            "refused": f"redis://127.0.0.1:{free_port()}/0",
        }[kind]
        url = f"sqlite+aiosqlite:///{tmp_path / 'orders.db'}"
        for _ in range(6 if kind == "real" else 3):
            result = await asyncio.to_thread(
                dexdesk,
                tmp_path,
                "--db",
                url,
                "--redis",
                redis_url,
                "resume",
                timeout=20,
                DEXDESK_REDIS_PREFIX="dexdesk-test-resume-exit",
            )
            assert result.returncode == 0, result.stderr
            assert "Traceback" not in result.stderr
            HARDENING.faults += 1
