"""The board's once-a-second refresh repaints rows only while some order is running or waiting.

Waiting times, retry countdowns and queue places read the clock; a finished order's cells do not.
An idle desk with a day's finished orders repainted its ~35 visible rows every second for nothing.
"""

from __future__ import annotations

from dataclasses import replace

from pytestqt.qtbot import QtBot

from engine.model.domain import OrderStatus
from engine.trading.pairs import default_catalog
from tests.ui.test_board import make_order
from ui.board.model import BoardModel


def test_finished_orders_are_not_repainted_each_second_running_ones_are(qtbot: QtBot) -> None:
    model = BoardModel(default_catalog())
    model.append_history([make_order(number, status=OrderStatus.CONFIRMED) for number in (3, 2, 1)])
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom, *_: changed.append((top.row(), bottom.row())))
    model.refresh_rows(0, 2)
    assert changed == [], "nothing on the board reads the clock"

    running = replace(make_order(4), status=OrderStatus.ROUTING)
    model.apply({running.id: running})
    qtbot.waitUntil(lambda: model.rowCount() == 4, timeout=3000)
    changed.clear()
    model.refresh_rows(0, 3)
    assert changed == [(0, 3)], "a running order's elapsed time moves"
