"""While older orders still load, the window's title says so (a taskbar shows it; `bench window` waits on it)."""

from __future__ import annotations

from typing import Any

from tests.ui.test_board import submit_all
from ui.main_window import TITLE


def test_the_title_says_older_orders_load_until_they_are_all_on_the_board(open_desk: Any) -> None:
    first = open_desk()
    submit_all(first, [("SOL-USDC", str(amount), "BUY") for amount in range(1, 26)])
    first.close()

    second = open_desk(first_page=10, page=7)  # the newest page is shown; older pages read in a worker thread
    window = second.window
    assert window.windowTitle() == f"{TITLE} · loading older orders…"
    second.qtbot.waitUntil(lambda: window.board.model.rowCount() == 25, timeout=5000)
    second.qtbot.waitUntil(lambda: window.windowTitle() == TITLE, timeout=5000)
