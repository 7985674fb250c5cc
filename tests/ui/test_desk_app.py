"""The desk as a program: errors never vanish, and `--demo N --screenshot FILE` runs end to end."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.model.domain import OrderStatus
from tests.ui.conftest import Desk


def test_a_failing_task_and_a_loop_error_are_shown_with_a_copy_button(desk: Desk) -> None:
    reporter = desk.window.errors
    loop = asyncio.get_event_loop()
    reporter.install(loop)
    try:

        async def broken() -> None:
            raise ValueError("the pool ran dry")

        desk.window.spawn(broken())
        desk.qtbot.waitUntil(lambda: reporter.reported != [], timeout=3000)
        loop.call_exception_handler({"message": "callback failed", "exception": RuntimeError("lost")})
    finally:
        reporter.uninstall(loop)

    assert reporter.reported[0] == "ValueError: the pool ran dry"
    assert reporter.reported[1].startswith("callback failed: RuntimeError: lost")
    dialog = reporter.dialog
    assert dialog.isVisible()
    assert "the pool ran dry" in dialog.details.toPlainText()
    assert "Traceback" in dialog.details.toPlainText()
    desk.run(desk.engine.submit("SOL-USDC", "1", "BUY"))  # the desk keeps working
    desk.wait_idle()


@pytest.mark.slow
def test_demo_with_screenshot_runs_every_order_and_exits_0(tmp_path: Path) -> None:
    """With a limit order waiting in the database too: the demo waited for the engine to be idle, forever."""
    shot = tmp_path / "desk.png"
    database = tmp_path / "demo.db"
    from tests.conftest import running

    async def a_waiting_limit_order() -> None:
        async with running(f"sqlite+aiosqlite:///{database}") as engine:
            waiting = await engine.submit("SOL-USDC", "1", "BUY", order_type="limit", limit_price="1")
            assert waiting.is_waiting_limit

    asyncio.run(a_waiting_limit_order())
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    command = [sys.executable, "-c", "from app.cli import entry_point; entry_point()"]
    command += ["--demo", "30", "--screenshot", str(shot), "--seed", "5", "--db", f"sqlite+aiosqlite:///{database}"]
    result = subprocess.run(
        command,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert shot.stat().st_size > 20_000
    assert "30 demo orders" in result.stdout

    async def counts() -> dict[OrderStatus, int]:
        async with running(f"sqlite+aiosqlite:///{database}") as engine:
            return await engine.store.counts_by_status()

    finished = asyncio.run(counts())
    assert finished.pop(OrderStatus.PENDING) == 1, "the limit order still waits"
    assert sum(finished.values()) == 30
    assert set(finished) <= {OrderStatus.CONFIRMED, OrderStatus.FAILED}
