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
    summary = panel.summary
    assert summary.isVisible()
    assert summary.text().startswith("US"), "the largest quote currency's PnL first"
    assert not summary.visibleRegion().isEmpty(), "the summary line is on screen"
    assert summary.height() >= summary.fontMetrics().height(), f"summary {summary.height()} px tall"
    assert _inside(dock, summary), "the summary line lies inside the Account dock"
    assert summary.visibleRegion().boundingRect().height() >= summary.fontMetrics().height(), "not cut off"
