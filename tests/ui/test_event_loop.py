"""The desk's asyncio loop (ui/event_loop.py): asyncio's promises kept while Qt paints in between."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot


def test_callbacks_run_in_the_order_they_were_queued_while_the_window_paints(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    label = QLabel("0")
    qtbot.addWidget(label)
    label.show()
    ran: list[int] = []

    def step(number: int) -> None:
        ran.append(number)
        label.setText(str(number))  # a repaint is asked for between every pass
        if number % 100 == 0:
            label.repaint()

    for number in range(3000):
        qloop.call_soon(step, number)
    qtbot.waitUntil(lambda: len(ran) == 3000, timeout=5000)
    assert ran == list(range(3000))


def test_tasks_wake_in_the_order_their_futures_were_resolved(qtbot: QtBot, qloop: asyncio.AbstractEventLoop) -> None:
    waiting: list[int] = []
    woke: list[int] = []
    futures = [qloop.create_future() for _ in range(200)]

    async def waiter(number: int) -> None:
        waiting.append(number)
        await futures[number]
        woke.append(number)

    tasks = [qloop.create_task(waiter(number)) for number in range(200)]
    qtbot.waitUntil(lambda: len(waiting) == 200, timeout=1000)
    assert waiting == list(range(200))

    def resolve_backwards() -> None:
        for future in reversed(futures):
            future.set_result(None)

    qloop.call_soon(resolve_backwards)
    qtbot.waitUntil(lambda: all(task.done() for task in tasks), timeout=5000)
    assert woke == list(reversed(range(200)))


def test_a_cancelled_callback_does_not_run(qtbot: QtBot, qloop: asyncio.AbstractEventLoop) -> None:
    ran: list[str] = []
    cancelled = qloop.call_soon(ran.append, "cancelled")
    qloop.call_soon(ran.append, "kept")
    cancelled.cancel()
    qtbot.waitUntil(lambda: ran == ["kept"], timeout=1000)
    assert ran == ["kept"]


def test_a_callback_inside_a_nested_event_loop_does_not_hold_back_the_rest(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    """A modal dialog's `exec()` inside a callback spins Qt: the callbacks queued behind it still run."""
    ran: list[str] = []

    def modal() -> None:
        nested = QEventLoop()
        ran.append("dialog open")
        qloop.call_soon(ran.append, "queued while it is open")
        waiting = QTimer()
        waiting.setInterval(1)
        waiting.timeout.connect(lambda: nested.quit() if "queued while it is open" in ran else None)
        waiting.start()
        give_up = QTimer()
        give_up.setSingleShot(True)
        give_up.timeout.connect(nested.quit)
        give_up.start(3000)
        nested.exec()
        waiting.stop()
        give_up.stop()
        ran.append("dialog closed")

    qloop.call_soon(modal)
    qloop.call_soon(ran.append, "queued before it")
    qtbot.waitUntil(lambda: "dialog closed" in ran, timeout=5000)
    assert ran == ["dialog open", "queued before it", "queued while it is open", "dialog closed"]
