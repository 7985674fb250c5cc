"""Cluster mode refuses what it cannot do soundly, in one line, storing nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import postgres_schema, stored_orders
from tests.faults.support import DEXDESK, dexdesk_env, free_port

pytestmark = pytest.mark.slow  # real processes or servers: the slow lane (pytest -m slow)

ORDER = ("--pair", "SOL-USDC", "--amount", "1", "--direction", "BUY")


async def _dexdesk(home: Path, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        DEXDESK, *args, env=dexdesk_env(home), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _out, err = await process.communicate()
    return int(process.returncode or 0), err.decode()


async def test_sqlite_is_refused_by_producers_and_workers_saying_why(tmp_path: Path) -> None:
    database = tmp_path / "orders.db"
    queue = f"redis://127.0.0.1:{free_port()}/0"
    for args in (("submit", *ORDER), ("run", "--orders", "3"), ("worker",)):
        code, err = await _dexdesk(tmp_path, *args, "--db", f"sqlite:///{database}", "--queue", queue)
        assert code == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert "cluster mode needs a PostgreSQL database shared by every producer and worker" in lines[0]
        assert "only one machine can reach" in lines[0]
    assert not database.exists(), "nothing may be stored when cluster mode is refused"


async def test_a_producer_refuses_the_order_when_redis_is_down_and_stores_nothing(tmp_path: Path) -> None:
    async with postgres_schema() as db_url:
        queue = f"redis://127.0.0.1:{free_port()}/0"
        code, err = await _dexdesk(tmp_path, "submit", *ORDER, "--db", db_url, "--queue", queue)
        assert code == 2, err
        assert (
            err.strip() == f"dexdesk: queue: Redis at {queue} is unreachable (connection refused); no order was stored"
        )
        assert await stored_orders(db_url) == []
