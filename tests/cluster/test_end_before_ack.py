"""A worker publishes an order's end on Redis before it completes the order's job (issue 21 item 7's flake).

`test_a_killed_worker_loses_nothing…` once found an order stored ended but never heard ending.
The end's snapshot and its PUBLISH are one Lua script, so whoever finds the order ended later
(`ensure_ended`) is right to skip an end Redis holds; but a worker completed the job as soon as the
attempt returned, while the mirror's pipeline with the end was still queued. Killed in between,
the job was gone (nobody would find the order again) and the end never published. Redis's own
MONITOR shows the order in which the server ran both.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from tests.cluster.support import cluster
from tests.faults.support import eventually

pytestmark = pytest.mark.slow

ORDERS = 60
_END = re.compile(r'\[\d+ lua\] "PUBLISH" "order-updates:([0-9a-f-]{36})" ".*\\"status\\": ?\\"(CONFIRMED|FAILED)\\"')
_COMPLETED = re.compile(r'"EVALSHA" .*"([0-9a-f-]{36})" "\d+" "returnvalue" .*"completed"')


def _order_of_events(log: str) -> tuple[dict[str, int], dict[str, int]]:
    """Line numbers of each order's published end and of its job's completion, as the server ran them."""
    ends: dict[str, int] = {}
    completions: dict[str, int] = {}
    for number, line in enumerate(log.splitlines()):
        if (end := _END.search(line)) is not None:
            ends.setdefault(end.group(1), number)
        elif (done := _COMPLETED.search(line)) is not None:
            completions.setdefault(done.group(1), number)
    return ends, completions


async def test_every_orders_end_is_published_before_its_job_is_completed(tmp_path: Path) -> None:
    async with cluster(tmp_path, "--time-scale", "0", "--rate-limit", "0", "--seed", "5") as running:
        monitor_log = tmp_path / "monitor.log"
        with monitor_log.open("wb") as sink:
            monitor = await asyncio.create_subprocess_exec(
                "redis-cli", "-p", str(running.redis.port), "monitor", stdout=sink, stderr=sink
            )
        try:
            await eventually(lambda: monitor_log.read_text().startswith("OK"), "MONITOR to start", within=10)
            await running.start_worker("--concurrency", "10")
            code, _out, err = await running.produce("run", "--orders", str(ORDERS), "--json")
            assert code in (0, 1), err
        finally:
            monitor.terminate()
            await monitor.wait()
    ends, completions = _order_of_events(monitor_log.read_text(errors="replace"))
    assert len(completions) == ORDERS, f"{len(completions)} job completions seen"
    assert set(ends) >= set(completions), "an order ended without its end being published"
    early = sorted(order_id for order_id, at in completions.items() if at < ends[order_id])
    assert not early, f"{len(early)} of {ORDERS} jobs completed before their order's end was published"
