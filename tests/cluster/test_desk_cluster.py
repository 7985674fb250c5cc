"""The desk as a cluster producer: its status bar shows the cluster, and its orders run on a worker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pytestqt.qtbot import QtBot

from engine.model.domain import OrderUpdate
from tests.cluster.support import cluster
from tests.ui.conftest import Desk, quiet_settings

pytestmark = pytest.mark.slow

T = TypeVar("T")


def _run(qtbot: QtBot, work: Coroutine[Any, Any, T], timeout: int = 60_000) -> T:
    task = asyncio.ensure_future(work)
    qtbot.waitUntil(task.done, timeout=timeout)
    return task.result()


def test_the_desk_submits_to_the_cluster_and_shows_workers_alive(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, open_desk: Callable[..., Desk]
) -> None:
    stack = AsyncExitStack()
    running = _run(qtbot, stack.enter_async_context(cluster(tmp_path, "--time-scale", "0", "--rate-limit", "0")))
    try:
        # The same market as the desk's (seed 7): the desk's quote binds the order the worker executes.
        _run(qtbot, running.start_worker("--rate-limit", "40", "--rate-window", "4", "--seed", "7"))
        settings = quiet_settings(running.db_url, queue_url=running.redis.url, rate_limit=40, rate_window_s=4.0)
        desk = open_desk(settings)
        status = desk.window.status
        qtbot.waitUntil(lambda: "1 worker alive" in status.cluster.text(), timeout=15_000)
        assert status.cluster.isVisible()
        assert not status.queued.isVisible()
        heard: list[OrderUpdate] = []
        desk.engine.subscribe(heard.append)
        order = desk.run(desk.engine.submit("SOL-USDC", "3", "BUY"))
        # The attempt's start is in the cluster's window for the next 4 s: the status bar shows it.
        qtbot.waitUntil(lambda: any(update.message["status"] == "ROUTING" for update in heard), timeout=15_000)
        qtbot.waitUntil(lambda: "window 1/40 per 4 s" in status.cluster.text(), timeout=3_000)

        # The engine follows its own orders to their end from the workers' updates.
        final = desk.run(desk.engine.wait_terminal(order.id), timeout=30_000)
        assert final.is_terminal
        # The workers' updates reach the desk's board from Redis, as external ones.
        qtbot.waitUntil(lambda: any(update.order.is_terminal for update in heard), timeout=15_000)
        statuses = [update.message["status"] for update in heard if update.order_id == order.id]
        assert statuses[0] == "PENDING"
        assert statuses[1] == "ROUTING"
        assert all(update.external for update in heard[1:])
        desk.wait_idle()
        desk.window.grab().save(str(tmp_path / "desk.png"))
        desk.close()
    finally:
        _run(qtbot, stack.aclose())
