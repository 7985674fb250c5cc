"""What a trader saw in a real window (Xvfb, 1366×768 and 1920×1080) on the merged desk, fixed."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QTextDocument

from engine.model.domain import OrderStatus
from tests.ui.conftest import Desk
from tests.ui.test_trading_layout import UNLIMITED
from ui.account_panel import GAIN, LOSS
from ui.board.columns import Column
from ui.desk_layout import dock_sizes
from ui.formatting import group_decimal


def test_the_chart_key_sits_above_the_plot_and_covers_no_price(desk: Desk) -> None:
    """An in-plot legend hid the newest prices and a 40,000 SOL BUY's fill marker at the top."""
    chart = desk.window.chart
    chart.set_pair("SOL-USDC")
    assert chart.plot.getPlotItem().legend is None, "nothing drawn over the lines"
    document = QTextDocument()
    document.setHtml(chart.key.text())
    key = document.toPlainText().replace("\xa0", " ")  # what the trader reads
    for entry in ("reference", "raydium", "meteora", "BUY pays", "SELL gets", "BUY fill", "SELL fill", "waiting limit"):
        assert entry in key, entry
    layout = chart.layout()
    assert layout is not None
    assert layout.indexOf(chart.key) < layout.indexOf(chart.plot), "the key is above the plot, outside it"


def test_the_account_gets_its_width_when_the_window_was_sized_after_the_layout(desk: Desk) -> None:
    """Arranged while hidden, Qt shared the width out again on show: the account got ~420 of its
    500 px at 1366 and the positions' Avg cost / Realized headers were clipped."""
    window = desk.window
    window.hide()
    window.setMaximumSize(UNLIMITED)
    available = QRect(0, 0, 1366, 728)
    window.setGeometry(available)
    window.desk_layout.arrange(available)
    window.show()
    _ticket, account_width, _height = dock_sizes(available)
    widths: list[int] = []

    def account_has_its_width() -> bool:
        widths.append(window.docks.account.width())
        return abs(widths[-1] - account_width) <= 12

    desk.qtbot.waitUntil(account_has_its_width, timeout=5000)
    positions = window.account_panel.positions
    header = positions.horizontalHeader()
    metrics = header.fontMetrics()
    for column in range(1, 5):  # Size, Avg cost, Mark, Unreal.: readable in full
        title = positions.horizontalHeaderItem(column).text()
        assert header.sectionSize(column) >= metrics.horizontalAdvance(title) + 8, title


def test_a_split_order_names_both_venues_on_the_board(desk: Desk) -> None:
    split = desk.run(desk.engine.submit("SOL-USDC", "40000", "BUY"))
    single = desk.run(desk.engine.submit("SOL-USDC", "1", "BUY"))
    desk.wait_idle()
    model = desk.window.board.model
    shown = {}
    for order_id in (split.id, single.id):
        order = model.get(order_id)
        assert order is not None
        assert order.status is OrderStatus.CONFIRMED
        shown[order_id] = Column.VENUE.spec.display(order, model.context)
    assert shown[split.id] == "raydium+meteora", "a split read as raydium alone"
    assert shown[single.id] in ("raydium", "meteora")
    table = desk.window.board.table
    needed = table.fontMetrics().horizontalAdvance("raydium+meteora") + 24  # the cell's padding
    assert table.columnWidth(list(Column).index(Column.VENUE)) >= needed, "not elided to 'raydium+mete…'"


def test_an_expired_limit_is_announced_as_expired_not_failed(desk: Desk) -> None:
    notices: list[str] = []
    desk.window.notices.notice.connect(notices.append)
    order = desk.run(desk.engine.submit("SOL-USDC", "1", "BUY", order_type="limit", limit_price="1", expires_in="0.5"))
    desk.window.notices.sent(order)
    desk.run(desk.engine.wait_terminal(order.id))
    desk.window.bridge.flush()
    desk.qtbot.waitUntil(lambda: len(notices) >= 2, timeout=5000)
    assert notices[-1].startswith("EXPIRED BUY 1 SOL-USDC — price not reached — "), notices[-1]
    assert "FAILED" not in notices[-1]


def test_the_account_tables_end_inside_the_panel(desk: Desk) -> None:
    """At 1366×768 the positions' last column, Realized, was cut off at the dock's right edge."""
    panel = desk.window.account_panel
    desk.run(desk.engine.reset_account("USDC=10000,USDT=10000,SOL=10"))
    desk.run(panel.reload())
    panel.resize(480, 300)
    for table in (panel.balances, panel.positions):
        header = table.horizontalHeader()
        desk.qtbot.waitUntil(lambda table=table: table.viewport().width() > 0, timeout=5000)
        assert header.length() <= table.viewport().width(), "every column inside the view, Realized included"
        last = table.columnCount() - 1
        title = table.horizontalHeaderItem(last).text()
        assert header.sectionSize(last) >= header.fontMetrics().horizontalAdvance(title), title


def test_a_limit_lines_label_is_read_in_full_inside_the_plot(desk: Desk) -> None:
    chart = desk.window.chart
    chart.set_pair("SOL-USDC")
    desk.run(desk.engine.submit("SOL-USDC", "2", "SELL", order_type="limit", limit_price="100000"))
    desk.window.bridge.flush()
    desk.qtbot.waitUntil(lambda: len(chart._limit_lines) == 1, timeout=5000)
    chart.plot.resize(470, 260)
    view = chart.plot.getViewBox()
    view.setYRange(90_000, 110_000)
    label = chart._limit_lines[0].label
    desk.qtbot.waitUntil(lambda: label.isVisible() and view.sceneBoundingRect().width() > 0, timeout=5000)
    label.updatePosition()
    assert label.toPlainText().startswith("limit SELL 2")
    box, text = view.sceneBoundingRect(), label.sceneBoundingRect()
    assert text.left() >= box.left(), "its first letters were cut off under the price axis"
    assert text.right() <= box.right()


def test_the_largest_position_is_the_first_row(desk: Desk) -> None:
    """By name, a burst's BONK and BTC dust took the two rows the dock shows at 1366×768."""
    panel = desk.window.account_panel
    desk.run(desk.engine.reset_account("USDC=1000,SOL=100"))
    for pair, amount in (("BONK-USDC", "100000"), ("BTC-USDC", "0.001")):
        order = desk.run(desk.engine.submit(pair, amount, "BUY"))
        desk.run(desk.engine.wait_terminal(order.id))
    desk.run(panel.reload())
    pairs = [panel.positions.item(row, 0).text() for row in range(panel.positions.rowCount())]
    assert pairs[0] == "SOL-USDC", pairs
    assert set(pairs) >= {"SOL-USDC", "BONK-USDC", "BTC-USDC"}


def test_what_rounds_to_zero_is_shown_without_a_sign_or_a_losss_red(desk: Desk) -> None:
    """A freshly reset account showed unrealized "-0.00" in red for a -0.001 USDC mark move."""
    assert group_decimal(Decimal("-0.001"), 2) == "0.00"
    assert group_decimal(Decimal("-0.0000"), 4) == "0.0000"
    assert group_decimal(Decimal("-0.01"), 2) == "-0.01"
    assert group_decimal(Decimal("-1234.5"), 2) == "-1,234.50"
    panel = desk.window.account_panel
    desk.run(desk.engine.reset_account("USDC=1000,SOL=10"))
    desk.run(panel.reload())
    view = panel.view
    assert view is not None
    tiny = replace(view.positions[0], mark=view.positions[0].average_cost - Decimal("0.00001"))
    panel.show_view(replace(view, positions=[tiny]))
    unrealized = panel.positions.item(0, 4)
    assert unrealized.text() in ("0.00", "0.0000")
    assert unrealized.foreground().color() not in (GAIN, LOSS)


def test_the_limit_price_placeholder_names_the_pairs_tokens(desk: Desk) -> None:
    ticket = desk.window.ticket
    for pair, words in (("SOL-USDC", "price in USDC per SOL"), ("JUP-SOL", "price in SOL per JUP")):
        ticket.pair_line.setFocus()
        ticket.pair_line.selectAll()
        desk.qtbot.keyClicks(ticket.pair_line, pair.lower())
        desk.qtbot.keyClick(ticket.pair_line, Qt.Key.Key_Return)
        assert ticket.pair.currentText() == pair
        assert ticket.limit_price.placeholderText() == words


def test_the_tickets_quote_is_read_in_full_for_a_large_order(desk: Desk) -> None:
    """At 1366×768 a 40,000 SOL BUY's quote read "6,580,988.1646 U…" and "best by 32.7 b…"."""
    ticket = desk.window.ticket
    desk.run(desk.engine.reset_account("USDC=10000000,SOL=10"))
    ticket.resize(370, ticket.height())
    desk.qtbot.keyClicks(ticket.amount, "40000")
    desk.qtbot.waitUntil(
        lambda: ticket.quotes.item(3, 1) is not None and ticket.quotes.item(3, 1).text() != "", timeout=5000
    )
    table = ticket.quotes
    metrics = table.fontMetrics()
    for row in (3, 4):
        for column in (1, 2):
            text = table.item(row, column).text()
            if row == 3:
                assert text.endswith(" USDC")
                assert len(text.split(" ")[0].split(".")[1]) == 2, "a USDC total in cents"
            assert metrics.horizontalAdvance(text) <= table.columnWidth(column), text
