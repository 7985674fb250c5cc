"""A desk and a `dexdesk run` on one database: the desk shows the other process's orders live to their end.

The desk owns none of them, so it waits for none of them: it closes without asking.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.model.domain import OrderStatus
from tests.faults.support import DEXDESK, dexdesk_env
from tests.ui.conftest import Desk

pytestmark = pytest.mark.slow  # real processes or servers: the slow lane (pytest -m slow)


def test_a_desk_shows_another_processs_orders_to_their_end_and_quits_without_waiting_for_them(
    open_desk: Callable[..., Desk], sqlite_url: str, tmp_path: Path
) -> None:
    desk = open_desk()
    other = subprocess.Popen(
        [DEXDESK, "run", "--orders", "30", "--time-scale", "0.05", "--rate-limit", "0", "--db", sqlite_url],
        env=dexdesk_env(tmp_path / "home"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        model = desk.window.board.model
        # Orders another process runs appear on the board while they run.
        desk.qtbot.waitUntil(lambda: model.rowCount() > 0 or other.poll() is not None, timeout=30_000)
        desk.qtbot.waitUntil(lambda: other.poll() is not None, timeout=60_000)
        assert other.returncode == 0
        assert other.stderr is not None
        assert b"Traceback" not in other.stderr.read()
    finally:
        if other.poll() is None:
            other.kill()
            other.wait()

    def every_order_ended() -> bool:
        orders = [model.order_at(row) for row in range(model.rowCount())]
        return len(orders) == 30 and all(order.status.is_terminal for order in orders)

    desk.qtbot.waitUntil(every_order_ended, timeout=10_000)
    assert {model.order_at(row).status for row in range(30)} <= {OrderStatus.CONFIRMED, OrderStatus.FAILED}
    assert desk.engine.owned_count() == 0
    assert desk.engine.active_orders() == []
    # Nothing of its own running: the desk closes at once, no "orders still running" question.
    desk.window.close()
    assert not desk.window.isVisible()
