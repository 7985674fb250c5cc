"""The board as a trader drives it with the keyboard: running view, empty state, copying, menus, filters."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from engine.model.domain import Direction, Order, OrderStatus, Venue
from engine.model.validation import OrderRequest
from engine.reporting.reports import COLUMNS as CSV_COLUMNS
from engine.trading.pairs import default_catalog
from tests.ui.conftest import Desk, quiet_settings
from tests.ui.test_board import make_order
from ui.board.columns import Column
from ui.board.filter import BoardFilter
from ui.board.view import EMPTY_BOARD, NOTHING_MATCHES, BoardView

SIGNATURE = "3vQpZ8TnW2mLx7RkYb5HcJdF9sAe4GuN6oPiKtMwVzXy1BqCrDsEfGhJkLmNoPqRsTuVwXyZaBcDeFgHiJkLmNo"


def board(qtbot: QtBot) -> BoardView:
    view = BoardView(default_catalog())
    qtbot.addWidget(view)
    view.resize(1300, 500)
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is view, timeout=2000)  # shortcuts need an active window
    return view


def mixed_orders() -> list[Order]:
    return [
        make_order(1, status=OrderStatus.CONFIRMED, dex=Venue.RAYDIUM, execution_price=Decimal("148.2"),
                   tx_hash=SIGNATURE, attempts=1),
        make_order(2, status=OrderStatus.ROUTING, attempts=1, pair="JUP-USDC"),
        make_order(3, status=OrderStatus.SUBMITTED, dex=Venue.METEORA, execution_price=Decimal("0.52"),
                   attempts=1, direction=Direction.SELL, pair="JUP-USDC"),
        make_order(4, status=OrderStatus.FAILED, attempts=3, error="slippage exceeded"),
        make_order(5),
        make_order(6),
    ]  # fmt: skip


def load(view: BoardView, orders: list[Order]) -> None:
    view.model.apply({order.id: order for order in orders})


def visible_ids(view: BoardView) -> set[str]:
    return {order.id for order in view.visible_orders()}


def test_running_view_and_queue_places_make_running_orders_easy_to_find(qtbot: QtBot) -> None:
    view = board(qtbot)
    orders = mixed_orders()
    load(view, orders)
    qtbot.waitUntil(lambda: view.filters.running.text() == "Running 2", timeout=2000)

    qtbot.keyClick(view.table, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert visible_ids(view) == {orders[1].id, orders[2].id}
    assert view.filters.running.isChecked()
    assert view.filters.statuses.text() == "Status: Running"
    qtbot.keyClick(view.table, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert len(visible_ids(view)) == len(orders)

    place = lambda order: view.model.index(view.model.row_of(order.id) or 0, Column.STATUS.index).data()  # noqa: E731
    assert (place(orders[4]), place(orders[5])) == ("PENDING #1 in queue", "PENDING #2 in queue")


def test_an_empty_board_says_what_to_do(qtbot: QtBot) -> None:
    view = board(qtbot)
    assert view.table.empty_text == EMPTY_BOARD
    assert "press Enter to buy" in EMPTY_BOARD
    assert "Burst" in EMPTY_BOARD
    view.grab()  # paints the hint without error
    load(view, mixed_orders())
    view.filters.search.setText("no such order")
    view.apply_search_now()
    assert view.model.rowCount() == 0
    assert view.table.empty_text == NOTHING_MATCHES


def test_ctrl_c_copies_full_ids_and_hashes_and_menus_copy_rows(qtbot: QtBot) -> None:
    view = board(qtbot)
    orders = mixed_orders()
    load(view, orders)
    clipboard = QGuiApplication.clipboard()
    confirmed_row = view.model.row_of(orders[0].id)
    assert confirmed_row is not None

    view.table.setFocus()
    view.table.setCurrentIndex(view.model.index(confirmed_row, Column.ID.index))
    qtbot.keyClick(view.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert clipboard.text() == orders[0].id
    view.table.setCurrentIndex(view.model.index(confirmed_row, Column.TX_HASH.index))
    qtbot.keyClick(view.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert clipboard.text() == SIGNATURE  # the whole signature, not "3vQpZ8Tn…"

    qtbot.keyClick(view.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    rows = list(csv.reader(io.StringIO(clipboard.text())))
    assert rows[0] == list(CSV_COLUMNS)
    assert rows[1][0] == orders[0].id
    assert SIGNATURE in rows[1]

    cancelled: list[str] = []
    opened: list[str] = []
    view.cancel_order.connect(cancelled.append)
    view.open_order.connect(opened.append)
    point = view.table.visualRect(view.model.index(confirmed_row, Column.PAIR.index)).center()
    menu = view.row_actions.row_menu(point)
    assert menu is not None
    texts = [action.text().split("\t")[0] for action in menu.actions() if action.text()]
    assert texts == ["Open order", "Cancel order", "Copy full id", "Copy full tx hash", "Copy row as CSV"]
    cancel = next(action for action in menu.actions() if action.text().startswith("Cancel"))
    assert not cancel.isEnabled()  # CONFIRMED: nothing to cancel
    next(action for action in menu.actions() if action.text() == "Copy full tx hash").trigger()
    assert clipboard.text() == SIGNATURE
    menu.close()

    waiting_row = view.model.row_of(orders[4].id)
    assert waiting_row is not None
    menu = view.row_actions.row_menu(view.table.visualRect(view.model.index(waiting_row, 0)).center())
    assert menu is not None
    next(action for action in menu.actions() if action.text().startswith("Cancel")).trigger()
    assert cancelled == [orders[4].id]
    menu.close()
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)  # the same from the keyboard
    assert cancelled == [orders[4].id, orders[4].id]
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert opened == [orders[4].id]


def test_the_header_menu_hides_and_shows_columns(qtbot: QtBot) -> None:
    view = board(qtbot)
    header = view.table.horizontalHeader()
    menu = view.row_actions.header_menu(QPoint(10, 5))
    error = next(action for action in menu.actions() if action.text() == "Error")
    assert error.isChecked()
    error.trigger()
    assert header.isSectionHidden(Column.ERROR.index)
    menu.close()
    menu = view.row_actions.header_menu(QPoint(10, 5))
    assert not next(action for action in menu.actions() if action.text() == "Error").isChecked()
    next(action for action in menu.actions() if action.text() == "Show all columns").trigger()
    assert not header.isSectionHidden(Column.ERROR.index)
    menu.close()


def test_search_covers_venue_and_side_statuses_combine_and_active_filters_show(qtbot: QtBot) -> None:
    view = board(qtbot)
    orders = mixed_orders()
    load(view, orders)
    bar = view.filters

    view.search.setFocus()
    qtbot.keyClicks(view.search, "meteora")
    qtbot.waitUntil(lambda: view.filter.search == "meteora", timeout=2000)
    assert visible_ids(view) == {orders[2].id}
    assert bar.search.property("filterOn") is True
    assert bar.clear.isVisible()
    assert bar.count.text() == f"showing 1 of {len(orders)} — filters on"
    qtbot.keyClick(view.search, Qt.Key.Key_Escape)
    assert view.filter == BoardFilter()
    qtbot.keyClicks(view.search, "Sell")  # ids, pairs, sides and venues match in any case
    qtbot.waitUntil(lambda: view.filter.search == "Sell", timeout=2000)
    assert visible_ids(view) == {orders[2].id}
    qtbot.keyClick(view.search, Qt.Key.Key_Escape)

    failed = bar.status_actions[OrderStatus.FAILED]
    pending = bar.status_actions[OrderStatus.PENDING]
    failed.trigger()
    pending.trigger()
    assert visible_ids(view) == {orders[3].id, orders[4].id, orders[5].id}
    assert bar.statuses.text() == "Status: PENDING + FAILED"
    assert bar.statuses.property("filterOn") is True
    bar.pair.setCurrentIndex(bar.pair.findText("SOL-USDC"))
    assert bar.pair.property("filterOn") is True

    qtbot.mouseClick(bar.clear, Qt.MouseButton.LeftButton)  # one click clears everything
    assert view.filter == BoardFilter()
    assert len(visible_ids(view)) == len(orders)
    assert not bar.clear.isVisible()
    assert bar.statuses.property("filterOn") is False
    assert bar.count.text() == f"{len(orders)} orders"


def test_filters_restored_at_launch_are_announced(qtbot: QtBot, tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
    first = board(qtbot)
    first.filters.set_filter(BoardFilter(statuses=frozenset({OrderStatus.FAILED, OrderStatus.CONFIRMED})))
    first.save_state(settings)

    second = board(qtbot)
    notices: list[str] = []
    second.notice.connect(notices.append)
    second.restore_state(settings)
    assert second.filter.statuses == frozenset({OrderStatus.FAILED, OrderStatus.CONFIRMED})
    orders = mixed_orders()
    second.model.append_history(sorted(orders, key=lambda order: -order.seq))
    second.history_loaded()
    assert notices == ["Showing 2 of 6 — filters on (CONFIRMED + FAILED); Esc in the search clears"]
    assert second.filters.count.text() == "showing 2 of 6 — filters on"


def test_a_finished_order_cannot_be_cancelled_but_a_running_one_can(qtbot: QtBot) -> None:
    view = board(qtbot)
    orders = mixed_orders()
    load(view, orders)
    cancelled: list[str] = []
    view.cancel_order.connect(cancelled.append)
    view.table.selectAll()
    view.row_actions.cancel_selected()
    active = {order.id for order in orders if not order.is_terminal}
    assert set(cancelled) == active
    done = replace(orders[1], status=OrderStatus.CONFIRMED)
    load(view, [done])
    cancelled.clear()
    view.row_actions.cancel_selected()
    assert set(cancelled) == active - {done.id}


def test_the_desk_announces_filters_it_restored_at_launch(open_desk: Any, sqlite_url: str) -> None:
    first = open_desk()
    submitted = [first.run(first.engine.submit(pair, "1", "BUY")) for pair in ("SOL-USDC", "JUP-USDC", "JUP-USDC")]
    first.wait_idle()
    first.window.board.filters.pair.setCurrentIndex(first.window.board.filters.pair.findText("JUP-USDC"))
    first.close()

    second = open_desk()
    board = second.window.board
    assert board.filter.pair == "JUP-USDC"
    second.qtbot.waitUntil(lambda: board.model.total == len(submitted), timeout=5000)
    message = second.window.toast.text
    assert message.startswith("Showing 2 of 3 — filters on (JUP-USDC)")
    assert board.filters.count.text() == "showing 2 of 3 — filters on"


def test_cancel_from_the_board_cancels_a_queued_order(open_desk: Any, sqlite_url: str) -> None:
    # One at a time at a fifth of real time: the later orders wait in the queue long enough to be cancelled.
    desk: Desk = open_desk(quiet_settings(sqlite_url, time_scale=0.2, concurrency=1))
    board = desk.window.board
    orders = desk.run(desk.engine.submit_many([OrderRequest("SOL-USDC", Decimal(n), Direction.BUY) for n in (1, 2, 3)]))
    desk.window.bridge.flush()
    last = orders[-1]
    place = lambda: board.model.index(board.model.row_of(last.id) or 0, Column.STATUS.index).data()  # noqa: E731
    desk.qtbot.waitUntil(lambda: place() == "PENDING #2 in queue", timeout=5000)

    board.table.setFocus()
    board.table.selectRow(board.model.row_of(last.id) or 0)
    desk.qtbot.keyClick(board.table, Qt.Key.Key_Delete)
    desk.qtbot.waitUntil(lambda: (board.model.get(last.id) or last).status is OrderStatus.CANCELLED, timeout=5000)
    assert desk.window.toast.text.startswith(f"Cancelled {last.id[:8]}")
    desk.wait_idle()
    assert (board.model.get(orders[0].id) or last).status is OrderStatus.CONFIRMED
