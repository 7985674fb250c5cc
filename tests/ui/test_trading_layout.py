"""A layout for trading (issue 24): ticket, chart and account beside the board, never wider than the screen."""

from __future__ import annotations

from itertools import combinations

import pytest
from PySide6.QtCore import QRect, QSize
from PySide6.QtWidgets import QDockWidget, QWidget

from engine.model.domain import OrderStatus
from tests.ui.conftest import Desk

UNLIMITED = QSize(16_777_215, 16_777_215)


def _lay_out_for(desk: Desk, width: int, height: int) -> None:
    """The desk arranged for a screen of this free area (the test screen itself is 800×800)."""
    window = desk.window
    window.setMaximumSize(UNLIMITED)
    window.setGeometry(0, 0, width, height)
    window.desk_layout.arrange(QRect(0, 0, width, height))
    desk.qtbot.waitUntil(lambda: window.board.width() > 0 and window.width() == width, timeout=5000)


def _in_view(window: QWidget, widget: QWidget) -> QRect:
    top_left = widget.mapTo(window, widget.rect().topLeft())
    return QRect(top_left, widget.size())


@pytest.mark.parametrize(("width", "height"), [(1366, 728), (1920, 1040)])
def test_ticket_chart_and_account_are_in_view_beside_the_board(desk: Desk, width: int, height: int) -> None:
    _lay_out_for(desk, width, height)
    window = desk.window
    docks = window.docks
    shown: list[QWidget] = [docks.ticket, docks.chart, docks.account, window.board]
    for part in shown:
        assert part.isVisible(), part.objectName()
        assert not part.visibleRegion().isEmpty(), f"{part.objectName()} is hidden behind something"
    for dock in (docks.ticket, docks.chart, docks.account):
        assert isinstance(dock, QDockWidget)
        assert not dock.isFloating()
        assert [other for other in window.tabifiedDockWidgets(dock) if other is not docks.fills] == []
    places = {part.objectName() or "board": _in_view(window, part) for part in shown}
    for (one, first), (other, second) in combinations(places.items(), 2):
        assert not first.intersects(second), f"{one} and {other} overlap"
    board = places["board"]
    assert board.width() >= 900, "the board keeps the width the ticket leaves"
    assert board.height() >= 280, "about ten rows of orders"
    assert max(place.right() for place in places.values()) < width
    if width >= 1600:
        assert docks.fills.isVisible()
        assert window.tabifiedDockWidgets(docks.fills) == [], "its own strip under the board"
    else:
        assert window.tabifiedDockWidgets(docks.account) == [docks.fills], "a tab behind the account"


def test_the_window_never_grows_past_a_1366_screen_whatever_the_filters(desk: Desk) -> None:
    window = desk.window
    available = QRect(0, 0, 1366, 728)
    _lay_out_for(desk, available.width(), available.height())
    window.desk_layout.cap(available)
    board = window.board
    desk.qtbot.keyClicks(board.search, "sol-usdc raydium a long search that names a tx hash")
    board.filters.set_statuses(frozenset({OrderStatus.CONFIRMED, OrderStatus.FAILED}))
    board.filters.pair.setCurrentIndex(board.filters.pair.findText("SOL-USDC"))
    board.active_only.setChecked(True)
    desk.qtbot.waitUntil(lambda: not window.desk_layout.keeper.pending, timeout=5000)
    assert board.filters.clear.isVisible()
    assert window.frameGeometry().width() <= available.width(), "it grew to 1,425-1,434 px before"
    assert window.frameGeometry().height() <= available.height()
    assert window.minimumSizeHint().width() <= available.width(), "nothing asks for more than the screen"


def test_restore_default_layout_brings_back_every_dock_side_by_side(desk: Desk) -> None:
    window = desk.window
    docks = window.docks
    docks.chart.close()
    docks.account.setFloating(True)
    window.tabifyDockWidget(docks.ticket, docks.fills)
    action = next(a for a in window.menuBar().actions() if a.text() == "&View").menu().actions()[-1]
    assert action.text() == "Restore default layout"
    action.trigger()
    for dock in docks.all():
        assert dock.isVisible(), dock.objectName()
        assert not dock.isFloating(), dock.objectName()
    assert window.tabifiedDockWidgets(docks.ticket) == []
    assert not docks.chart.visibleRegion().isEmpty()
