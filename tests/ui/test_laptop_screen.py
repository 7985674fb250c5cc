"""The desk on a 1366×768 laptop (issue 24's leftovers): what a trader reads fits without sideways scrolling.

- The board's default columns through Notional and slippage fit its width; the rest stay reachable.
- The positions table shows several positions, not two, however many tokens the balances list.
- A two-hop order's timeline gives hop amounts at their token's decimals, not the route's 12 places.

Set DEXDESK_SHOTS to a folder to save what each test looked at (widget.grab()); nothing is saved otherwise.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from PySide6.QtWidgets import QWidget

from engine.model.domain import OrderStatus
from tests.ui.conftest import Desk
from tests.ui.test_trading_layout import _lay_out_for
from ui.board.columns import COLUMNS, Column


def _shot(widget: QWidget, name: str) -> None:
    folder = os.environ.get("DEXDESK_SHOTS")
    if folder:
        widget.grab().save(str(Path(folder) / f"{name}.png"))


def test_the_boards_default_columns_through_slippage_fit_a_1366_screen(desk: Desk) -> None:
    _lay_out_for(desk, 1366, 728)
    desk.run(desk.engine.submit("SOL-USDC", "1", "BUY"))
    desk.wait_idle()
    table = desk.window.board.table
    header = table.horizontalHeader()
    last = Column.SLIPPAGE.index
    right_edge = header.sectionViewportPosition(last) + header.sectionSize(last)
    _shot(desk.window, "desk-1366")
    assert right_edge <= table.viewport().width(), f"Slip. ends at {right_edge} px of {table.viewport().width()}"
    shown = [column for column in COLUMNS if not header.isSectionHidden(column.index)]
    assert shown == list(COLUMNS), "every column is still there, to the right"
    on_screen = sorted(COLUMNS, key=lambda column: header.visualIndex(column.index))
    assert on_screen.index(Column.ID) == on_screen.index(Column.SLIPPAGE) + 1, "the Id follows Slip."
    for column in (
        Column.TIME,
        Column.ID,
        Column.PAIR,
        Column.AMOUNT,
        Column.VENUE,
        Column.PRICE,
        Column.NOTIONAL,
        Column.SLIPPAGE,
    ):
        index = desk.window.board.model.index(0, column.index)
        text = index.data()
        width = table.fontMetrics().horizontalAdvance(text) + 16  # the cell's padding, both sides
        assert width <= header.sectionSize(column.index), f"{column.name}: {text!r} is cut"
        title = column.spec.title
        assert header.fontMetrics().horizontalAdvance(title) + 16 <= header.sectionSize(column.index), title


def test_the_positions_table_shows_several_positions_beside_many_balances(desk: Desk) -> None:
    _lay_out_for(desk, 1366, 728)
    desk.run(desk.engine.reset_account("USDC=10000,USDT=10000,SOL=10,JUP=1000,BONK=10000000,WIF=500"))
    desk.run(desk.window.burst(40))
    desk.wait_idle()
    panel = desk.window.account_panel
    desk.run(panel.reload())
    positions = panel.positions
    desk.qtbot.waitUntil(lambda: positions.rowCount() >= 4, timeout=10_000)
    _shot(desk.window.docks.account, "account-1366")
    viewport = positions.viewport().height()
    whole_rows = sum(
        1
        for row in range(positions.rowCount())
        if positions.rowViewportPosition(row) >= 0
        and positions.rowViewportPosition(row) + positions.rowHeight(row) <= viewport
    )
    assert whole_rows >= 4, f"{whole_rows} whole rows of {positions.rowCount()} positions in {viewport} px"
    assert panel.balances.rowCount() >= 5


def test_a_two_hop_timeline_gives_amounts_at_their_tokens_decimals(desk: Desk) -> None:
    order = desk.run(desk.engine.submit("SOL-RAY", "2", "SELL"))
    desk.wait_idle()
    dialog = desk.window.order_windows.open_detail(order.id)
    assert dialog is not None
    desk.qtbot.waitUntil(lambda: dialog.order.status is OrderStatus.CONFIRMED and dialog.order.logs != (), timeout=5000)
    notes = [dialog.timeline.item(row, 3).text() for row in range(dialog.timeline.rowCount())]
    _shot(dialog, "detail-two-hop")
    hops = [note for note in notes if " USDC → " in note]
    assert hops, notes
    for note in notes:
        assert not re.search(r"\d\.\d{5,} [A-Z]", note), note  # no token has more than 4 places
    tips = [dialog.timeline.item(row, 3).toolTip() for row in range(dialog.timeline.rowCount())]
    assert any(re.search(r"\d\.\d{3,} USDC", tip) for tip in tips), "the log's own figures stay in the tooltip"
    attempt = dialog.attempt_table
    headers = [attempt.horizontalHeaderItem(column).text() for column in range(attempt.columnCount())]
    quoted = attempt.item(0, headers.index("Route quote")).text()
    assert quoted == dialog.facts["Sent at"].text().split()[0], "the attempt was quoted the two-hop route's price"
    dialog.close()
