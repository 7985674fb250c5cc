"""One run of the desk on the Qt event loop: start the engine, show the window, wait for quit, stop cleanly.

Runs as the coroutine the desk's loop (ui/event_loop.py) drives to completion. Quitting goes
through an asyncio.Event set when the window closes (as the qasync examples do), so the engine is
always stopped by this coroutine and never by a Qt event loop that has already gone away.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from engine.account.model import DEFAULT_START
from engine.config.settings import Settings
from engine.model.exit_codes import ExitCode
from engine.runtime.engine import Engine
from engine.storage import StorageUnavailable
from ui.main_window import MainWindow
from ui.mirror_link import MirrorStarter

log = logging.getLogger("dexdesk.desk")


async def run_desk(
    engine: Engine,
    settings: Settings,
    *,
    layout_file: Path,
    demo: int | None = None,
    screenshot: Path | None = None,
    start_mirror: MirrorStarter | None = None,
) -> int:
    """The whole life of the desk; `start_mirror` (from app/) mirrors the engine to Redis when a URL is set."""
    app = QApplication.instance()
    assert isinstance(app, QApplication), "the desk needs a QApplication"
    app.setQuitOnLastWindowClosed(False)
    loop = asyncio.get_running_loop()
    window = MainWindow(engine, settings, layout_file=layout_file, start_mirror=start_mirror)
    window.errors.install(loop)
    quit_requested = asyncio.Event()
    window.closed.connect(quit_requested.set)
    app.aboutToQuit.connect(quit_requested.set)
    try:
        await engine.start()
    except StorageUnavailable as problem:
        reason = str(problem)
        print(f"dexdesk: {reason}", file=sys.stderr)
        if screenshot is None:
            await tell_and_wait(QMessageBox.Icon.Critical, "dexdesk cannot start", reason)
        window.errors.uninstall(loop)
        return ExitCode.BAD_INPUT
    window.mirror.start(settings)  # no await since engine.start(): the mirror misses nothing
    window.spawn(window.api.apply(settings.serve_api_port))
    try:
        if not demo and await engine.ensure_account(DEFAULT_START):
            window.account_panel.refresh()  # a first start: the paper account opens with the default balances
        window.restore_layout()
        window.show()
        await window.load_history()
        window.show_launch_notice()
        if demo:
            await run_demo(window, demo, screenshot)
            if screenshot is not None:
                window.confirm_quit()
                window.close()
        await quit_requested.wait()
    finally:
        await window.shutdown()
        window.errors.uninstall(loop)
    return ExitCode.OK


async def run_demo(window: MainWindow, count: int, screenshot: Path | None) -> None:
    """Submit `count` random orders, wait until every one has finished, and save the picture if asked.

    Waits for the demo's own orders, not for the engine to be idle: a limit order waiting in the
    database (the README's picture shows two) keeps the engine busy for as long as it waits.
    """
    submitted = await window.desk_actions.burst(count)
    log.info("demo: %d orders submitted", len(submitted))
    await asyncio.gather(*(window.engine.wait_terminal(order.id) for order in submitted))
    window.bridge.flush()
    if screenshot is None:
        return
    # A picture of the desk should show the ticket at work: an amount typed, both venues quoted.
    window.ticket.amount.setText("25")
    window.ticket.refresh_quote()
    await settle_paint()
    window.status.refresh()  # the last attempt task ends just after the engine reports idle
    await settle_paint()
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(screenshot)):
        raise OSError(f"could not write the screenshot to {screenshot}")
    print(f"dexdesk: screenshot of {count} demo orders saved to {screenshot}")


async def tell_and_wait(icon: QMessageBox.Icon, title: str, text: str) -> None:
    """A message box shown with `open()` and awaited through its `finished` signal: no nested event loop."""
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok)
    answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def closed(_result: int) -> None:
        if not answered.done():
            answered.set_result(None)

    box.finished.connect(closed)
    box.open()
    await answered


async def settle_paint() -> None:
    """Give Qt a few real loop turns to run pending layout and paint events before a grab.

    Never `processEvents()` here: inside a task it would run other tasks re-entrantly.
    """
    for _ in range(3):
        await asyncio.sleep(0.03)
