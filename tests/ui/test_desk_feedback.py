"""The desk always says what is going on: notices, a rate-limited queue, a Burst's wait, quitting, resuming."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QTabBar

from engine.storage import OrderStore
from tests.ui.conftest import Desk, quiet_settings
from ui.board.model import Column


def message(desk: Desk) -> str:
    return desk.window.toast.text


def test_a_ticket_order_is_announced_when_sent_and_when_confirmed(desk: Desk) -> None:
    ticket = desk.window.ticket
    desk.qtbot.keyClicks(ticket.amount, "10.5")
    desk.qtbot.keyClick(ticket.amount, Qt.Key.Key_Return)

    desk.qtbot.waitUntil(lambda: "sent" in message(desk), timeout=5000)
    order = desk.run(desk.engine.orders_page(limit=1))[0]
    assert message(desk) == f"BUY 10.5 SOL-USDC sent — {order.id[:8]}" or message(desk).startswith("CONFIRMED")
    desk.qtbot.waitUntil(lambda: message(desk).startswith("CONFIRMED BUY 10.5 SOL-USDC at "), timeout=10_000)
    assert message(desk).endswith(f"— {order.id[:8]}")
    assert " on raydium " in message(desk) or " on meteora " in message(desk)


def test_a_failed_ticket_order_says_why(open_desk: Any, sqlite_url: str) -> None:
    desk: Desk = open_desk(quiet_settings(sqlite_url, failure_rate=1.0))
    ticket = desk.window.ticket
    desk.qtbot.keyClicks(ticket.amount, "2")
    desk.qtbot.keyClick(ticket.amount, Qt.Key.Key_Return)
    desk.qtbot.waitUntil(lambda: message(desk).startswith("FAILED BUY 2 SOL-USDC — "), timeout=10_000)


def test_a_burst_is_announced_when_its_last_order_ends(desk: Desk) -> None:
    desk.run(desk.window.desk_actions.burst(30))
    desk.qtbot.waitUntil(lambda: message(desk).startswith("Burst of 30 done in "), timeout=10_000)
    assert "30 confirmed" in message(desk)


def test_a_rate_limited_queue_says_why_it_waits_and_when_it_is_done(open_desk: Any, sqlite_url: str) -> None:
    desk: Desk = open_desk(quiet_settings(sqlite_url, rate_limit=5, slippage_tolerance="0.5"))
    desk.run(desk.window.desk_actions.burst(25))
    status = desk.window.status
    desk.qtbot.waitUntil(
        lambda: desk.engine.stats().window_used == 5 and desk.engine.stats().in_flight == 0, timeout=5000
    )
    status.refresh()

    assert "rate limit reached — next start in " in status.rate.text()
    assert status.rate.text().startswith("Rate 5/5 · ")
    assert status.rate.styleSheet(), "the full window is highlighted"
    assert status.queued.text().startswith("20 queued ≈ ")
    assert status.queued.text() == "20 queued ≈ 4 min", "20 more at 5 a minute: four more windows"

    # A notice never hides the counters, and they keep their place.
    before = status.queued.geometry()
    long_notice = "FAILED SELL 40,207.27 JUP-SOL — transaction expired: blockhash not found — 36e89056"
    desk.window.notify(long_notice)
    toast = desk.window.toast.label
    assert desk.window.toast.text == long_notice
    assert toast.geometry().bottom() < status.geometry().top(), "above the status bar, over no counter"
    assert toast.width() >= toast.fontMetrics().horizontalAdvance(long_notice), "the whole notice is readable"
    dock_tabs = [bar for bar in desk.window.findChildren(QTabBar) if bar.parent() is desk.window and bar.isVisible()]
    assert dock_tabs, "the ticket shares its dock area with tabs"
    for bar in dock_tabs:
        assert not toast.geometry().intersects(bar.geometry()), "the docks' tabs stay readable and clickable"
    assert status.queued.isVisible()
    assert status.rate.isVisible()
    assert status.queued.geometry().x() == before.x()


def test_the_burst_dialog_tells_how_long_the_queue_will_take(open_desk: Any, sqlite_url: str) -> None:
    desk: Desk = open_desk(quiet_settings(sqlite_url, rate_limit=100, slippage_tolerance="0.5"))
    dialog = desk.window.desk_actions.ask_burst()
    dialog.setIntValue(3000)
    assert "At 100 starts per minute the last of 3,000 orders starts in ≈ 29 min" in " ".join(
        dialog.labelText().split()
    )
    dialog.setIntValue(50)
    assert "All 50 fit in the rate limit" in " ".join(dialog.labelText().split())
    dialog.reject()


def test_layout_and_filters_are_saved_when_they_change_without_closing(desk: Desk, layout_file: Path) -> None:
    window = desk.window
    board = window.board
    board.table.horizontalHeader().resizeSection(Column.PAIR.index, 171)
    board.filters.pair.setCurrentIndex(board.filters.pair.findText("JUP-USDC"))
    desk.qtbot.keyClicks(board.search, "jup")
    assert window.desk_layout.keeper.pending, "saved after a pause, not on every pixel of a drag"
    desk.qtbot.waitUntil(
        lambda: window.desk_layout.keeper.saves >= 1 and not window.desk_layout.keeper.pending, timeout=5000
    )

    # What a crash right now would leave on disk:
    saved = QSettings(str(layout_file), QSettings.Format.IniFormat)
    assert saved.value("board/pair") == "JUP-USDC"
    assert saved.value("board/search") == "jup"
    header = board.table.horizontalHeader()
    header.resizeSection(Column.PAIR.index, 90)
    assert header.restoreState(saved.value("board/header"))
    assert header.sectionSize(Column.PAIR.index) == 171


def test_quitting_asks_without_a_nested_loop_counts_down_and_quits_when_told(open_desk: Any, sqlite_url: str) -> None:
    desk: Desk = open_desk(quiet_settings(sqlite_url, rate_limit=3, slippage_tolerance="0.5"))
    window = desk.window
    desk.run(window.desk_actions.burst(10))
    desk.qtbot.waitUntil(lambda: desk.engine.owned_count() == 7, timeout=5000)
    closed: list[bool] = []
    window.closed.connect(lambda: closed.append(True))

    window.close()  # returns at once: the question is open(), not exec()
    box = window.quitting.box
    assert box is not None
    assert box.isVisible()
    assert not closed
    window.quitting.wait_button.click()
    desk.qtbot.waitUntil(lambda: message(desk).startswith("Quitting after 7 orders · ≈ "), timeout=5000)
    assert "≈ 3 min" in message(desk) or "≈ 2 min 5" in message(desk), "3 ran at once; 7 wait 3 windows"
    assert window.windowTitle().startswith("dexdesk — quitting after 7 orders")
    assert window.isVisible()

    window.close()  # asked again while waiting: this time quit now
    assert window.quitting.box is not None
    window.quitting.quit_button.click()
    assert closed == [True]
    desk.closed = True
    desk.run(window.shutdown())


def test_the_launch_says_how_many_orders_were_resumed(open_desk: Any, sqlite_url: str) -> None:
    first: Desk = open_desk(quiet_settings(sqlite_url, rate_limit=2, slippage_tolerance="0.5"))
    first.run(first.window.desk_actions.burst(6))
    first.qtbot.waitUntil(lambda: first.engine.owned_count() == 4, timeout=5000)  # two ran, four wait
    first.close()  # confirm_quit: the four still queued stay stored
    second: Desk = open_desk(quiet_settings(sqlite_url))
    assert second.engine.resumed == 4
    assert second.window.show_launch_notice() == "Resumed 4 unfinished orders from the last session"
    assert message(second) == "Resumed 4 unfinished orders from the last session"


def test_the_light_theme_is_a_setting_applied_at_once(desk: Desk) -> None:
    from PySide6.QtWidgets import QApplication

    from ui.theme import MUTED_TEXT, apply_theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    dialog = desk.window.settings_flow.open()
    dialog.theme.setCurrentIndex(dialog.theme.findData("light"))
    try:
        dialog.accept()
        assert desk.window.settings.theme == "light"
        assert app.palette().window().color().lightness() > 200
        assert MUTED_TEXT.name() == "#5f6877"
        chart = desk.window.chart
        assert chart.plot.backgroundBrush().color().lightness() > 200, "the chart follows the desk's theme"
        assert "#0d1117" not in chart.key.styleSheet()
    finally:
        apply_theme(app, "dark")
    assert app.palette().window().color().lightness() < 60
    assert desk.window.chart.plot.backgroundBrush().color().name() == "#0d1117", "and back"


def test_the_rate_counter_names_the_window_it_counts(open_desk: Any, sqlite_url: str) -> None:
    desk: Desk = open_desk(quiet_settings(sqlite_url, rate_limit=40, rate_window_s=4))
    desk.run(desk.window.desk_actions.burst(3))
    desk.qtbot.waitUntil(lambda: desk.engine.stats().window_used == 3, timeout=5000)
    status = desk.window.status
    status.refresh()

    assert status.rate.text() == "Rate 3/40 per 4 s"
    assert status.rate.toolTip() == "Attempt starts in the last 4 s / the rate limit"


def test_quitting_can_cancel_the_queued_and_quit_when_the_ones_in_flight_end(open_desk: Any, sqlite_url: str) -> None:
    desk: Desk = open_desk(quiet_settings(sqlite_url, rate_limit=3, slippage_tolerance="0.5"))
    window = desk.window
    desk.run(window.desk_actions.burst(10))
    desk.qtbot.waitUntil(lambda: desk.engine.owned_count() == 7, timeout=5000)
    closed: list[bool] = []
    window.closed.connect(lambda: closed.append(True))

    window.close()
    box = window.quitting.box
    assert box is not None
    assert box.text() == "7 orders are still running."
    window.quitting.cancel_queued_button.click()
    desk.qtbot.waitUntil(lambda: closed == [True], timeout=10_000)
    desk.closed = True
    desk.run(window.shutdown())
    counts = desk.run(_counts_after(sqlite_url))
    assert counts == {"CONFIRMED": 3, "CANCELLED": 7}, "the queued were cancelled, none left to resume"


async def _counts_after(sqlite_url: str) -> dict[str, int]:
    store = OrderStore(sqlite_url)
    await store.open(create=False)
    try:
        return {str(status): count for status, count in (await store.counts_by_status()).items()}
    finally:
        await store.close()
