"""`dexdesk bench cluster` runs real workers once at a small N and prints the keys scripts read (no timing asserted)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.faults.support import DEXDESK, ThrowawayRedis, dexdesk_env
from tests.services import POSTGRES_ADMIN_URL, require

pytestmark = pytest.mark.slow  # real processes or servers: the slow lane (pytest -m slow)

KEYS = {
    "orders_per_s",
    "orders_per_s_end_to_end",
    "workers",
    "max_starts_per_window",
    "lost",
    "executed_twice",
    "speedup_2_vs_1",
}


async def test_bench_cluster_measures_one_and_two_workers_and_loses_nothing(tmp_path: Path) -> None:
    require("postgres")
    redis = ThrowawayRedis(tmp_path / "redis")
    await redis.start()
    try:
        process = await asyncio.create_subprocess_exec(
            DEXDESK,
            "bench",
            "cluster",
            "--workers",
            "2",
            "--orders",
            "40",
            "--db",
            POSTGRES_ADMIN_URL,
            "--queue",
            redis.url,
            "--json",
            env=dexdesk_env(tmp_path),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 180)
    finally:
        await redis.kill()
    assert process.returncode == 0, err.decode()
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert set(result) >= KEYS
    assert result["workers"] == [1, 2]
    assert set(result["orders_per_s"]) == set(result["orders_per_s_end_to_end"]) == {"1", "2"}
    assert result["lost"] == 0
    assert result["executed_twice"] == 0
    assert result["max_starts_per_window"] <= result["rate_limit"]
