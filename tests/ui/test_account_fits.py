"""The Account dock on a 1366×768 laptop and a 1920×1080 screen (issue 24's leftovers): readable as it is.

What a trader notices: a balance row cut in half, or the PnL line under the positions cut off.
Every balance row the dock shows lies wholly inside the table's viewport (the rest scroll), and the
summary line is shown at its full text height, inside the dock.

Set DEXDESK_SHOTS to a folder to save what each test looked at (widget.grab()); nothing is saved otherwise.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QTableWidget, QWidget

from tests.ui.conftest import Desk
from tests.ui.test_laptop_screen import _shot
from tests.ui.test_trading_layout import _lay_out_for
from ui.tables import share_width


def _rows_cut(table: QTableWidget) -> list[int]:
    """Rows that show only part of themselves in the viewport (whole rows and rows out of view are fine)."""
    viewport = table.viewport().height()
    cut = []
    for row in range(table.rowCount()):
        top = table.rowViewportPosition(row)
        bottom = top + table.rowHeight(row)
        if bottom <= 0 or top >= viewport:
            continue  # scrolled out of view
        if top < 0 or bottom > viewport:
            cut.append(row)
    return cut


def _whole_rows(table: QTableWidget) -> int:
    viewport = table.viewport().height()
    return sum(
        1
        for row in range(table.rowCount())
        if table.rowViewportPosition(row) >= 0 and table.rowViewportPosition(row) + table.rowHeight(row) <= viewport
    )


def _inside(outer: QWidget, inner: QWidget) -> bool:
    top_left = inner.mapTo(outer, inner.rect().topLeft())
    return outer.rect().contains(QRect(top_left, inner.size()))


@pytest.mark.parametrize(("width", "height"), [(1366, 728), (1920, 1040)])
def test_every_balance_row_and_the_summary_line_are_whole(desk: Desk, width: int, height: int) -> None:
    _lay_out_for(desk, width, height)
    desk.run(desk.engine.reset_account("USDC=10000,USDT=10000,SOL=10,JUP=1000,BONK=10000000,WIF=500"))
    desk.run(desk.window.burst(40))
    desk.wait_idle()
    panel = desk.window.account_panel
    desk.run(panel.reload())
    desk.qtbot.waitUntil(lambda: panel.positions.rowCount() >= 4, timeout=10_000)
    dock = desk.window.docks.account
    _shot(dock, f"account-dock-{width}")
    balances = panel.balances
    assert balances.rowCount() >= 5
    assert _rows_cut(balances) == [], f"balance rows cut in {balances.viewport().height()} px"
    assert _whole_rows(balances) >= 2, "at least the two largest holdings without scrolling"
    assert _rows_cut(panel.positions) == [] or panel.positions.rowCount() > _whole_rows(panel.positions)
    assert _whole_rows(panel.positions) >= 4, "several positions beside the balances"
    header = panel.positions.horizontalHeader()
    columns = sum(header.sectionSize(column) for column in range(panel.positions.columnCount()))
    assert columns <= panel.positions.viewport().width(), "Realized is not under the scroll bar"
    summary = panel.summary
    assert summary.isVisible()
    assert summary.text().startswith("US"), "the largest quote currency's PnL first"
    assert not summary.visibleRegion().isEmpty(), "the summary line is on screen"
    assert summary.height() >= summary.fontMetrics().height(), f"summary {summary.height()} px tall"
    assert _inside(dock, summary), "the summary line lies inside the Account dock"
    assert summary.visibleRegion().boundingRect().height() >= summary.fontMetrics().height(), "not cut off"


@pytest.mark.parametrize(("width", "height"), [(1366, 728), (1920, 1040)])
def test_position_figures_are_whole_where_the_columns_can_share_the_width(desk: Desk, width: int, height: int) -> None:
    """At 1920 every figure is whole; at 1366 a BONK position's 13-digit size and 10-place prices cannot
    all be, but the PnL columns are, and no column runs off the dock's edge."""
    _lay_out_for(desk, width, height)
    desk.run(desk.engine.reset_account("USDC=10000,USDT=10000,SOL=10,BONK=20000000"))
    desk.run(desk.engine.submit("BONK-USDC", "11410000", "BUY"))
    desk.run(desk.engine.submit("SOL-USDC", "2", "BUY"))
    desk.wait_idle()
    panel = desk.window.account_panel
    desk.run(panel.reload())
    positions = panel.positions
    desk.qtbot.waitUntil(lambda: positions.rowCount() >= 2, timeout=10_000)
    _shot(desk.window.docks.account, f"account-positions-{width}")
    header = positions.horizontalHeader()
    widths = [header.sectionSize(column) for column in range(positions.columnCount())]
    assert sum(widths) <= positions.viewport().width(), "no column off the dock's right edge"
    metrics = positions.fontMetrics()
    whole = range(positions.columnCount()) if width >= 1600 else (0, 4, 5)  # Pair, Unreal., Realized
    for row in range(positions.rowCount()):
        for column in whole:
            text = positions.item(row, column).text()
            assert metrics.horizontalAdvance(text) < widths[column], f"{text!r} cut in {widths[column]} px"


def test_narrow_columns_keep_their_width_and_wide_ones_share_the_rest() -> None:
    assert share_width([50, 60, 70], 300) == [90, 100, 110]  # all fit: the room left is shared out
    assert share_width([40, 200, 50, 200], 400) == [40, 155, 50, 155]  # the narrow keep theirs
    assert share_width([100, 100], 150) == [75, 75]
    assert share_width([], 100) == []
