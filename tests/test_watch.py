"""`dexdesk watch` and `dexdesk info` as a user runs them: real processes, the real shared Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import uuid
from pathlib import Path

import pytest
from redis.asyncio import Redis

from app.cli import main
from tests.faults.listeners import namespace
from tests.faults.support import DEXDESK, dexdesk_env, free_port
from tests.services import REDIS_URL, require

pytestmark = pytest.mark.redis


async def _dexdesk(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        DEXDESK, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )


@pytest.mark.slow
async def test_watch_follows_every_order_and_one_order_through_the_cli(tmp_path: Path) -> None:
    """`watch` (all orders) sees a submitted order's every line; `watch ID` afterwards prints its end and exits 0/1."""
    require("redis")
    async with namespace() as prefix:
        env = dexdesk_env(tmp_path, DEXDESK_REDIS_URL=REDIS_URL, DEXDESK_REDIS_PREFIX=prefix)
        db = ["--db", f"sqlite+aiosqlite:///{tmp_path / 'orders.db'}"]
        watcher = await _dexdesk("watch", env=env)
        try:
            assert watcher.stdout is not None
            await _until_listening(watcher.stdout)
            submit = await _dexdesk(
                "submit", "--pair", "SOL-USDC", "--amount", "2", "--direction", "sell", "--json",
                "--time-scale", "0", *db, env=env,
            )  # fmt: skip
            printed, errors = await asyncio.wait_for(submit.communicate(), 60)
            assert submit.returncode in (0, 1), errors
            lines = printed.decode().splitlines()
            order_id = json.loads(lines[0])["orderId"]
            heard: list[str] = []
            while len(heard) < len(lines):
                line = (await asyncio.wait_for(watcher.stdout.readline(), 30)).decode().rstrip("\n")
                if json.loads(line)["orderId"] == order_id:
                    heard.append(line)
            assert heard == lines, "watch printed something other than what submit --json printed"
        finally:
            watcher.send_signal(signal.SIGINT)
            _, stderr = await asyncio.wait_for(watcher.communicate(), 30)
        assert watcher.returncode == 130
        assert b"Traceback" not in stderr
        assert b"unfinished orders" not in stderr

        single = await _dexdesk("watch", order_id, env=env)
        output, _ = await asyncio.wait_for(single.communicate(), 30)
        assert output.decode().splitlines() == [lines[-1]], "a finished order shows only its end"
        assert single.returncode == (0 if json.loads(lines[-1])["status"] == "CONFIRMED" else 1)


async def _until_listening(stdout: asyncio.StreamReader) -> None:
    """Publish a probe line until the watcher prints it: then it is surely subscribed."""
    probe = json.dumps({"orderId": f"probe-{uuid.uuid4()}", "status": "PROBE"})
    client = Redis.from_url(REDIS_URL)
    try:
        for _ in range(300):
            await client.publish(f"order-updates:{json.loads(probe)['orderId']}", probe)
            with contextlib.suppress(TimeoutError):
                if (await asyncio.wait_for(stdout.readline(), 0.1)).decode().strip() == probe:
                    return
        raise AssertionError("`dexdesk watch` never started listening")
    finally:
        await client.aclose()


def test_watch_needs_a_redis_url_and_a_full_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch"]) == 2
    assert "needs a Redis URL" in capsys.readouterr().err
    assert main(["watch", "1234", "--redis", REDIS_URL]) == 2
    assert capsys.readouterr().err.startswith("dexdesk: ORDER_ID: must be a full order id")


def test_watch_reports_an_unreachable_or_refusing_redis_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch", "--redis", f"redis://127.0.0.1:{free_port()}/0"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "cannot be reached: connection refused" in err
    require("redis")
    assert main(["watch", "--redis", "redis://127.0.0.1:6379/999"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "refused the connection" in err


def test_info_shows_the_mirror(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require("redis")
    db = ["--db", f"sqlite+aiosqlite:///{tmp_path / 'orders.db'}"]
    assert main(["info", *db]) == 0
    assert "redis mirror: off" in capsys.readouterr().out
    assert main(["info", "--redis", REDIS_URL, *db]) == 0
    assert f"redis mirror: connected to {REDIS_URL}" in capsys.readouterr().out
