"""A desk that cannot open its database says so in a box that does not run a nested event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from app.assembly import build_engine
from engine.model.exit_codes import ExitCode
from tests.ui.conftest import quiet_settings
from ui.session import run_desk


def test_an_unusable_database_is_told_in_an_open_box_and_exits_2(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    settings = quiet_settings("postgresql+asyncpg://postgres@127.0.0.1:9/nothing")  # port 9: nobody listens
    task = asyncio.ensure_future(run_desk(build_engine(settings), settings, layout_file=tmp_path / "desk.ini"))

    def open_box() -> QMessageBox | None:
        shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
        return next((box for box in shown if box.windowTitle() == "dexdesk cannot start"), None)

    qtbot.waitUntil(lambda: open_box() is not None, timeout=10_000)
    box = open_box()
    assert box is not None
    assert "127.0.0.1" in box.text() or "cannot" in box.text()
    assert not task.done(), "the box waits for the user, and the loop keeps running meanwhile"
    box.accept()
    qtbot.waitUntil(task.done, timeout=5000)
    assert task.result() == ExitCode.BAD_INPUT
