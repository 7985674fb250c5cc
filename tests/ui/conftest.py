"""Real desks for tests: real widgets offscreen, a real engine at time scale 0 on a real SQLite file.

The asyncio loop is the desk's own (ui/event_loop.py, qasync's with one ready queue), created per
test as "already running": Qt's event loop is what pytest-qt spins in `waitUntil`/`waitSignal`, and
every asyncio callback runs from it, exactly as in the app. Coroutines are started as tasks and
waited for with `qtbot.waitUntil`; nothing ever calls `run_until_complete` or processes events from
inside a task, which would re-enter asyncio.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QMenu
from pytestqt.qtbot import QtBot

from app.assembly import build_engine
from app.wiring import start_mirror
from engine.config.settings import Settings
from engine.runtime.engine import Engine
from ui.event_loop import DeskEventLoop
from ui.main_window import MainWindow

T = TypeVar("T")
WAIT_MS = 15_000


@pytest.fixture(autouse=True)
def _widgets_end_with_their_test(qapp: QApplication) -> Iterator[None]:
    """Every window, menu and dialog a test leaves behind is deleted when it ends (after its loop closed).

    Closed desks used to stay alive for the rest of the session, and every later restyle re-polished
    all of them: the light-theme test took 0.6 s alone and 18 s at the end of the quick lane.
    """
    yield
    for widget in qapp.topLevelWidgets():
        if isinstance(widget, MainWindow | QMenu):
            widget.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    loop = DeskEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        qapp.aboutToQuit.disconnect(loop._after_run_forever)
        loop._after_run_forever()
        loop._QEventLoop__is_running = False
        asyncio.events._set_running_loop(None)
        loop.close()
        asyncio.set_event_loop(None)


class Desk:
    """One open desk window and the engine behind it, with helpers to wait on either."""

    def __init__(self, qtbot: QtBot, window: MainWindow) -> None:
        self.qtbot = qtbot
        self.window = window
        self.engine: Engine = window.engine
        self.closed = False

    def run(self, work: Coroutine[Any, Any, T], timeout: int = WAIT_MS) -> T:
        """Run a coroutine as a task on the Qt-driven loop and wait for it while Qt keeps painting."""
        task = asyncio.ensure_future(work)
        self.qtbot.waitUntil(task.done, timeout=timeout)
        return task.result()

    def wait_idle(self) -> None:
        """Every order finished, and the board has been handed the last batch."""
        self.run(self.engine.wait_idle())
        self.window.bridge.flush()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.window.confirm_quit()
        self.window.close()
        self.run(self.window.shutdown())


def quiet_settings(db_url: str, **changes: Any) -> Settings:
    """Time scale 0, no rate limit, no network failures: orders finish in milliseconds."""
    values: dict[str, Any] = {
        "db_url": db_url,
        "time_scale": 0,
        "rate_limit": 0,
        "seed": 7,
        "failure_rate": 0.0,
    }
    values.update(changes)
    return Settings.model_validate(values)


@pytest.fixture
def layout_file(tmp_path: Path) -> Path:
    return tmp_path / "desk.ini"


@pytest.fixture
def open_desk(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, sqlite_url: str, layout_file: Path
) -> Iterator[Callable[..., Desk]]:
    opened: list[Desk] = []

    def open_(settings: Settings | None = None, **history: int) -> Desk:
        settings = settings or quiet_settings(sqlite_url)
        window = MainWindow(build_engine(settings), settings, layout_file=layout_file, start_mirror=start_mirror)
        desk = Desk(qtbot, window)
        opened.append(desk)

        async def start() -> None:
            await window.engine.start()
            window.mirror.start(settings)  # as ui.session does: no await between, so the mirror misses nothing

        desk.run(start())
        window.restore_layout()
        window.show()
        desk.run(window.load_history(**history))
        return desk

    yield open_
    for desk in opened:
        desk.close()


@pytest.fixture
def desk(open_desk: Callable[..., Desk]) -> Desk:
    return open_desk()


@pytest.fixture(autouse=True, scope="session")
def _desk_theme(qapp: Any) -> None:
    """Tests see the desk as users do: Fusion, the dark palette and the style sheet."""
    from ui.theme import apply_theme

    apply_theme(qapp)
