"""Quitting while orders run: ask without a nested event loop, then say what the desk waits for.

The question is a window-modal QMessageBox opened with `open()` (never `exec()`, which would run
a second event loop inside the asyncio loop). "Wait, then quit" keeps a live line in the status
bar — how many orders are left, how many are in flight and queued, and when the last queued one
starts — until the engine is idle and the window closes itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget

from engine.runtime.engine import Engine
from ui.status_bar import span_text

COUNTDOWN_MS = 250


class QuitFlow(QObject):
    """`ask()` shows the question; the chosen answer calls `quit_now()` or starts the countdown."""

    def __init__(
        self,
        window: QWidget,
        engine: Engine,
        *,
        show: Callable[[str, int], None],
        quit_now: Callable[[], None],
    ) -> None:
        super().__init__(window)
        self._window = window
        self.engine = engine
        self._show = show
        self._quit_now = quit_now
        self.box: QMessageBox | None = None
        self.waiting = False
        self._waiter: asyncio.Task[None] | None = None
        self._cancelling: asyncio.Task[None] | None = None
        self._countdown = QTimer(self)
        self._countdown.setInterval(COUNTDOWN_MS)
        self._countdown.timeout.connect(self._tell)

    def ask(self, running: int) -> QMessageBox:
        if self.box is not None and self.box.isVisible():
            self.box.raise_()
            return self.box
        box = QMessageBox(self._window)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Orders still running")
        box.setText(f"{running:,} order{' is' if running == 1 else 's are'} still running.")
        box.setInformativeText(
            "Quit now: attempts in flight finish first (a sent swap cannot be recalled); the rest stay "
            "stored and resume on the next start.\n"
            "Cancel the queued, then quit: every order that has not started its swap is cancelled; the desk "
            "closes when the ones in flight have finished.\n"
            "Wait, then quit: the desk counts down in the status bar and closes by itself when every order "
            "has finished."
        )
        self.quit_button = box.addButton("Quit now", QMessageBox.ButtonRole.AcceptRole)
        self.cancel_queued_button = box.addButton("Cancel the queued, then quit", QMessageBox.ButtonRole.ActionRole)
        self.wait_button = box.addButton("Wait, then quit", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(self.wait_button)
        box.buttonClicked.connect(self._answered)
        self.box = box
        box.open()
        return box

    def _answered(self, button: QAbstractButton) -> None:
        if button is self.quit_button:
            self.stop_waiting()
            self._quit_now()
        elif button is self.wait_button:
            self.start_waiting()
        elif button is self.cancel_queued_button:
            self._cancelling = asyncio.ensure_future(self._cancel_queued_then_wait())
        elif self.waiting:  # Cancel while counting down: the desk stays
            self.stop_waiting()
            self._show("Not quitting: the orders carry on", 4000)

    async def _cancel_queued_then_wait(self) -> None:
        cancelled = await self.engine.cancel_queued()
        self._show(
            f"Cancelled {cancelled:,} queued order{'' if cancelled == 1 else 's'}; quitting after those in flight", 4000
        )
        self.start_waiting()

    def start_waiting(self) -> None:
        if self.waiting:
            return
        self._title = self._window.windowTitle()
        self.waiting = True
        self._tell()
        self._countdown.start()
        self._waiter = asyncio.ensure_future(self._close_when_idle())

    def stop_waiting(self) -> None:
        if self.waiting:
            self._window.setWindowTitle(self._title)
        self.waiting = False
        self._countdown.stop()
        if self._waiter is not None:
            self._waiter.cancel()

    def _tell(self) -> None:
        """Short enough for a 1366-pixel status bar; the counters on the right give the detail."""
        left = self.engine.running_count()
        stats = self.engine.stats()
        eta = f" · ≈ {span_text(stats.drain_in_s)}" if stats.drain_in_s else ""
        orders = f"{left:,} order{'' if left == 1 else 's'}"
        self._show(f"Quitting after {orders}{eta} · Ctrl+Q: choose again", 0)
        self._window.setWindowTitle(f"dexdesk — quitting after {orders}{eta}")

    async def _close_when_idle(self) -> None:
        await self.engine.wait_running_done()
        self.stop_waiting()
        self._quit_now()
