"""Issue 21: a command whose Redis mirror cannot flush at exit says so, and the next process corrects Redis.

A real `dexdesk submit --redis` runs an order while its throwaway redis-server is frozen (SIGSTOP;
the shared Redis is never touched): it used to exit with no word, leaving Redis listing the order
active with a stale snapshot, and a Redis-only `dexdesk watch ID` waited forever. Now it says in one
line that the mirror could not flush; the next command that connects a mirror (here a `resume` with
nothing to do) corrects Redis from the database, and `watch ID` ends at once.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest
from redis.asyncio import Redis

from engine.listeners.mirror_keys import MirrorKeys
from tests.faults.support import DEXDESK, TALLY, ThrowawayRedis, dexdesk_env, eventually

pytestmark = pytest.mark.slow

ORDER = ("--pair", "SOL-USDC", "--amount", "1", "--direction", "BUY")


async def _dexdesk(env: dict[str, str], *args: str, within: float = 30) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        DEXDESK, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), within)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return int(process.returncode or 0), out.decode(), err.decode()


async def test_an_unflushed_mirror_is_reported_and_corrected_by_the_next_process(tmp_path: Path) -> None:
    server = ThrowawayRedis(tmp_path / "redis")
    await server.start()
    client = Redis.from_url(server.url, decode_responses=True)
    keys = MirrorKeys()
    env = dexdesk_env(tmp_path / "home")
    common = ["--db", f"sqlite+aiosqlite:///{tmp_path / 'orders.db'}", "--redis", server.url, "--seed", "2"]
    try:
        submit = await asyncio.create_subprocess_exec(
            DEXDESK, "submit", *ORDER, "--time-scale", "1", *common,
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await eventually(lambda: client.scard(keys.active), "the order's first state in Redis", within=30)
            [order_id] = list(await client.smembers(keys.active))  # type: ignore[misc]
            assert server.process is not None
            server.process.send_signal(signal.SIGSTOP)
            TALLY.fault("Redis frozen while a submit ends")
            _out, err = await asyncio.wait_for(submit.communicate(), 30)
        finally:
            if submit.returncode is None:
                submit.kill()
                await submit.wait()
            if server.process is not None:
                server.process.send_signal(signal.SIGCONT)
        assert submit.returncode in (0, 1), err.decode()
        notes = [line for line in err.decode().splitlines() if "could not flush" in line]
        assert len(notes) == 1, err.decode()
        assert notes[0].startswith("dexdesk: Redis mirror could not flush"), notes

        code, _out, err_text = await _dexdesk(env, "resume", "--time-scale", "0", *common)
        assert code == 0, err_text
        assert await client.sismember(keys.active, order_id) == 0, "the next process corrects dexdesk:active"
        code, out_text, err_text = await _dexdesk(env, "watch", order_id, "--redis", server.url, within=15)
        assert code in (0, 1), err_text
        assert json.loads(out_text.splitlines()[-1])["status"] in ("CONFIRMED", "FAILED"), out_text
    finally:
        await client.aclose()
        await server.kill()
