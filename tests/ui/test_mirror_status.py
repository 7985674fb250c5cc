"""The Redis mirror in the desk, on the real shared Redis: the status bar says how it is, orders never wait on it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from app.assembly import build_engine
from app.wiring import start_mirror
from engine.config.settings import resolve
from engine.listeners.mirror_keys import MirrorKeys
from engine.model.domain import OrderStatus
from tests.faults.support import free_port
from tests.services import REDIS_URL, require
from tests.ui.conftest import Desk, quiet_settings
from ui.main_window import MainWindow
from ui.session import run_desk

pytestmark = pytest.mark.redis


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own, its keys deleted afterwards, so runs sharing the Redis never collide."""
    require("redis")
    name = f"dexdesk-test-{uuid.uuid4().hex[:12]}"
    yield name
    with SyncRedis.from_url(REDIS_URL) as client:  # the test's loop may still be running here: no asyncio
        keys = list(client.scan_iter(f"{name}:*"))
        if keys:
            client.delete(*keys)


async def snapshot_status(prefix: str, order_id: str) -> str | None:
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        return await client.hget(MirrorKeys(prefix).snapshot(order_id), "status")
    finally:
        await client.aclose()


def mirror_label(window: MainWindow) -> str:
    label = window.status.mirror
    return label.text() if label.isVisibleTo(window) else ""


def test_the_desk_mirrors_to_redis_and_says_connected(
    qtbot: Any, qloop: Any, sqlite_url: str, layout_file: Path, prefix: str
) -> None:
    """The app's own path (ui.session.run_desk with app.wiring.start_mirror), from start to a clean quit."""
    settings = quiet_settings(sqlite_url, redis_url=REDIS_URL, redis_prefix=prefix)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    quit_on_close = app.quitOnLastWindowClosed()
    session = asyncio.ensure_future(
        run_desk(
            build_engine(settings),
            settings,
            layout_file=layout_file,
            start_mirror=start_mirror,
        )
    )
    try:
        windows: Callable[[], list[MainWindow]] = lambda: [  # noqa: E731
            widget for widget in app.topLevelWidgets() if isinstance(widget, MainWindow) and widget.isVisible()
        ]
        qtbot.waitUntil(lambda: len(windows()) == 1, timeout=10_000)
        window = windows()[0]
        desk = Desk(qtbot, window)
        qtbot.waitUntil(lambda: mirror_label(window) == "Redis: connected", timeout=10_000)

        order = desk.run(desk.engine.submit("SOL-USDC", "1.5", "BUY"))
        desk.wait_idle()
        assert window.board.model.get(order.id).status is OrderStatus.CONFIRMED  # type: ignore[union-attr]
        mirror = window.mirror.mirror
        assert mirror is not None
        desk.run(mirror.flushed())
        assert desk.run(snapshot_status(prefix, order.id)) == "CONFIRMED"
        assert "127.0.0.1:6379" in window.status.mirror.toolTip()

        window.confirm_quit()
        window.close()
        qtbot.waitUntil(session.done, timeout=10_000)
        assert session.result() == 0
        assert mirror.state.status == "stopped"
        assert window.mirror.mirror is None
    finally:
        if not session.done():
            session.cancel()
        app.setQuitOnLastWindowClosed(quit_on_close)


def test_redis_away_shows_disconnected_with_the_reason_and_orders_still_complete(
    open_desk: Callable[..., Desk], sqlite_url: str, prefix: str
) -> None:
    unused = f"redis://127.0.0.1:{free_port()}/0"
    desk = open_desk(quiet_settings(sqlite_url, redis_url=unused, redis_prefix=prefix))
    window = desk.window
    desk.qtbot.waitUntil(lambda: mirror_label(window).startswith("Redis: disconnected — "), timeout=10_000)
    text = mirror_label(window)
    assert "connection refused" in text
    assert ", retrying in " in text

    orders = [desk.run(desk.engine.submit("SOL-USDC", str(amount), "SELL")) for amount in (1, 2, 3)]
    desk.wait_idle()
    assert {window.board.model.get(order.id).status for order in orders} == {  # type: ignore[union-attr]
        OrderStatus.CONFIRMED
    }
    assert mirror_label(window).startswith("Redis: disconnected")


def test_a_new_redis_url_in_settings_reconnects_at_once_and_is_saved(
    open_desk: Callable[..., Desk], sqlite_url: str, prefix: str
) -> None:
    desk = open_desk(quiet_settings(sqlite_url))
    window = desk.window
    assert mirror_label(window) == ""  # no Redis URL: no mirror, nothing to show

    dialog = window.settings_flow.open()
    dialog.redis_url.setText(REDIS_URL)
    dialog.redis_prefix.setText(prefix)
    dialog.accept()
    assert not dialog.needs_restart
    desk.qtbot.waitUntil(lambda: mirror_label(window) == "Redis: connected", timeout=10_000)
    order = desk.run(desk.engine.submit("JUP-USDC", "25", "BUY"))
    desk.wait_idle()
    mirror = window.mirror.mirror
    assert mirror is not None
    desk.run(mirror.flushed())
    assert desk.run(snapshot_status(prefix, order.id)) == "CONFIRMED"
    saved = resolve({})
    assert (saved.redis_url, saved.redis_prefix) == (REDIS_URL, prefix)

    off = window.settings_flow.open()
    off.redis_url.clear()
    off.accept()
    desk.qtbot.waitUntil(lambda: mirror_label(window) == "", timeout=5_000)
    desk.qtbot.waitUntil(lambda: mirror.state.status == "stopped", timeout=5_000)
