"""A retry with no back-off left runs on in its job, as the in-process line runs it at the head of its line.

At time scale 0 an attempt's back-off is zero: the order is due again at once. A worker used to let
go of the order, move its job to BullMQ's delayed set, take it back and claim the order again; now
the job goes on with the order it holds (engine/runtime/order_runner.py `take`). What a user can
see: orders that needed a second attempt end once, each attempt in their log, and their jobs were
never delayed (BullMQ's events stream has no `delayed` event for them). Real processes: an
in-process producer engine, a `dexdesk worker`, a throwaway redis-server and a PostgreSQL schema.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis

from app.wiring import running_engine
from engine.cluster.config import QUEUE_NAME
from engine.model.domain import OrderStatus
from engine.model.log_kinds import LogKind
from tests.cluster.support import cluster, ended_orders
from tests.ui.conftest import quiet_settings

pytestmark = pytest.mark.slow

ORDERS = 60


async def _delayed_jobs(redis_url: str) -> set[str]:
    client = Redis.from_url(redis_url, decode_responses=True)
    try:
        events = await client.xrange(f"bull:{QUEUE_NAME}:events")
    finally:
        await client.aclose()
    return {fields["jobId"] for _id, fields in events if fields.get("event") == "delayed"}


async def test_a_retry_due_at_once_runs_on_in_its_job(tmp_path: Path) -> None:
    async with cluster(tmp_path, "--time-scale", "0", "--rate-limit", "0", "--seed", "5") as running:
        settings = quiet_settings(running.db_url, queue_url=running.redis.url)
        async with running_engine(settings) as engine:
            submitted = [await engine.submit("SOL-USDC", f"{index + 1}", "BUY") for index in range(ORDERS)]
        worker = await running.start_worker()

        ended, executions = await ended_orders(running.db_url, [order.id for order in submitted])
        delayed = await _delayed_jobs(running.redis.url)

    retried = [order for order in ended if order.attempts > 1]
    assert retried, "no order of this seed needed a second attempt: the test would prove nothing"
    assert {order.status for order in ended} <= {OrderStatus.CONFIRMED, OrderStatus.FAILED}
    for order in retried:
        started = [entry for entry in order.logs if entry.kind == LogKind.ATTEMPT_STARTED]
        assert len(started) == order.attempts
    assert delayed.isdisjoint(order.id for order in retried)
    assert all(executions.get(order.id, 0) == (order.status is OrderStatus.CONFIRMED) for order in ended)
    log = worker.log.read_text()
    assert "Traceback" not in log
    assert "dropped here" not in log
