"""A worker runs a fresh job from the copy of the order it carries, and never runs an order that copy misstates.

A producer's job carries its order as stored (engine/cluster/job_snapshot.py), so the worker that
takes it writes the first state without reading or claiming the order first. An order cancelled
between its queueing and its job's turn is the copy gone stale: the first write is refused, the
turn claims the order as stored and finds it ended. Real processes: an in-process producer engine
(the desk's and `serve`'s submit path), `dexdesk cancel`, a `dexdesk worker`, a throwaway
redis-server and a PostgreSQL schema.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.wiring import running_engine
from engine.model.domain import OrderStatus
from tests.cluster.support import cluster, ended_orders
from tests.ui.conftest import quiet_settings

pytestmark = pytest.mark.slow

ORDERS = 12
CANCELLED = 3


async def test_orders_cancelled_after_queueing_never_run_and_the_rest_run_once(tmp_path: Path) -> None:
    async with cluster(tmp_path, "--time-scale", "0", "--rate-limit", "0", "--seed", "3") as running:
        settings = quiet_settings(running.db_url, queue_url=running.redis.url)
        async with running_engine(settings) as engine:
            # No worker yet: every job waits in the queue with its copy of a PENDING order.
            submitted = [await engine.submit("SOL-USDC", f"0.{index + 1}", "BUY") for index in range(ORDERS)]
        for order in submitted[:CANCELLED]:
            code, out, err = await running.produce("cancel", order.id)
            assert code == 0, out + err
        worker = await running.start_worker()

        ended, executions = await ended_orders(running.db_url, [order.id for order in submitted])
    statuses = [order.status for order in ended]
    assert statuses == [OrderStatus.CANCELLED] * CANCELLED + [OrderStatus.CONFIRMED] * (ORDERS - CANCELLED)
    for order in ended[:CANCELLED]:
        assert order.attempts == 0
        assert OrderStatus.ROUTING not in {entry.status for entry in order.logs}
    assert {order.id: executions.get(order.id, 0) for order in submitted} == {
        order.id: 0 if index < CANCELLED else 1 for index, order in enumerate(submitted)
    }
    log = worker.log.read_text()
    assert "Traceback" not in log
    assert "dropped here" not in log
