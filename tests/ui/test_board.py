"""The order board: in-place updates, sorting, search and filters, on real orders."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from engine.model.domain import Direction, Order, OrderStatus, Venue
from engine.trading.pairs import default_catalog
from tests.ui.conftest import Desk, quiet_settings
from ui.board.model import BoardModel, Column


def make_order(number: int, **changes: Any) -> Order:
    moment = datetime(2025, 12, 12, 10, 0, tzinfo=UTC) + timedelta(seconds=number)
    order = Order(
        id=f"{number:08d}-0000-4000-8000-000000000000",
        seq=number,
        pair="SOL-USDC",
        direction=Direction.BUY,
        amount=Decimal(number),
        status=OrderStatus.PENDING,
        created_at=moment,
        updated_at=moment,
    )
    return replace(order, **changes)


def test_one_orders_update_changes_one_row_and_nothing_else(qtbot: QtBot) -> None:
    model = BoardModel(default_catalog())
    orders = [make_order(number) for number in (1, 2, 3, 4)]
    model.apply({order.id: order for order in orders})
    assert [model.order_at(row).seq for row in range(4)] == [4, 3, 2, 1]  # newest on top

    changed: list[tuple[int, int]] = []
    structural: list[str] = []
    model.dataChanged.connect(lambda top, bottom, _roles=(): changed.append((top.row(), bottom.row())))
    for name in ("layoutChanged", "modelReset", "rowsInserted", "rowsRemoved", "rowsMoved"):
        getattr(model, name).connect(lambda *_args, name=name: structural.append(name))

    routed = replace(orders[1], status=OrderStatus.ROUTING, dex=Venue.METEORA, attempts=1)
    model.apply({routed.id: routed})

    assert changed == [(2, 2)]
    assert structural == []
    assert model.index(2, Column.STATUS.index).data() == "ROUTING"
    assert model.index(2, Column.VENUE.index).data() == "meteora"


def test_new_orders_appear_on_top_and_history_below(qtbot: QtBot) -> None:
    model = BoardModel(default_catalog())
    model.append_history([make_order(5), make_order(4)])
    model.apply({make_order(6).id: make_order(6)})
    model.append_history([make_order(3), make_order(6)])  # 6 is already shown: not twice
    assert [model.order_at(row).seq for row in range(model.rowCount())] == [6, 5, 4, 3]


def submit_all(desk: Desk, orders: list[tuple[str, str, str]]) -> list[Order]:
    submitted = [desk.run(desk.engine.submit(pair, amount, side)) for pair, amount, side in orders]
    desk.wait_idle()
    return submitted


def shown(desk: Desk, column: Column) -> list[Any]:
    model = desk.window.board.model
    return [model.index(row, column.index).data() for row in range(model.rowCount())]


def test_sorting_sorts_numbers_as_numbers(desk: Desk) -> None:
    submit_all(desk, [("SOL-USDC", "9", "BUY"), ("SOL-USDC", "100", "SELL"), ("SOL-USDC", "10", "BUY")])
    table = desk.window.board.table
    assert shown(desk, Column.AMOUNT) == ["10.0000", "100.0000", "9.0000"]  # newest first

    table.sortByColumn(Column.AMOUNT.index, Qt.SortOrder.AscendingOrder)
    assert shown(desk, Column.AMOUNT) == ["9.0000", "10.0000", "100.0000"]
    table.sortByColumn(Column.AMOUNT.index, Qt.SortOrder.DescendingOrder)
    assert shown(desk, Column.AMOUNT) == ["100.0000", "10.0000", "9.0000"]

    table.sortByColumn(Column.TIME.index, Qt.SortOrder.AscendingOrder)
    assert shown(desk, Column.AMOUNT) == ["9.0000", "100.0000", "10.0000"]


def test_a_sorted_board_places_new_orders_by_the_sort(desk: Desk) -> None:
    submit_all(desk, [("SOL-USDC", "5", "BUY"), ("SOL-USDC", "50", "BUY")])
    board = desk.window.board
    board.table.sortByColumn(Column.AMOUNT.index, Qt.SortOrder.AscendingOrder)
    submit_all(desk, [("SOL-USDC", "20", "BUY")])
    desk.qtbot.waitUntil(lambda: shown(desk, Column.AMOUNT) == ["5.0000", "20.0000", "50.0000"], timeout=3000)


def test_search_and_filters_give_the_expected_rows(desk: Desk) -> None:
    sol, jup, eth = submit_all(
        desk, [("SOL-USDC", "1", "BUY"), ("JUP-USDC", "300", "SELL"), ("ETH-USDC", "0.5", "BUY")]
    )
    desk.engine.reconfigure(
        replace(desk.engine.settings, router=replace(desk.engine.settings.router, failure_rate=1.0))
    )
    (doomed,) = submit_all(desk, [("JUP-USDC", "40", "BUY")])
    board = desk.window.board
    ids = lambda: {order.id for order in board.visible_orders()}  # noqa: E731

    def search(text: str) -> None:
        board.search.clear()
        desk.qtbot.keyClicks(board.search, text)
        desk.qtbot.waitUntil(lambda: board.filter.search == text, timeout=2000)

    search("jup")
    assert ids() == {jup.id, doomed.id}
    search(sol.id[:8])
    assert ids() == {sol.id}
    stored_eth = board.model.get(eth.id)
    assert stored_eth is not None
    assert stored_eth.tx_hash
    search(stored_eth.tx_hash[10:24])
    assert ids() == {eth.id}
    search("")

    board.show_statuses({OrderStatus.FAILED})
    assert ids() == {doomed.id}
    board.show_statuses({OrderStatus.CONFIRMED})
    assert ids() == {sol.id, jup.id, eth.id}
    pair = board.filters.pair
    pair.setCurrentIndex(pair.findText("JUP-USDC"))
    assert ids() == {jup.id}
    board.show_statuses(set())
    assert ids() == {jup.id, doomed.id}
    pair.setCurrentIndex(0)

    board.active_only.setChecked(True)
    assert ids() == set()
    desk.qtbot.waitUntil(lambda: board.filters.count.text() == "showing 0 of 4 — filters on", timeout=2000)
    board.active_only.setChecked(False)
    assert len(ids()) == 4


def test_active_only_drops_orders_as_they_finish(open_desk: Any, sqlite_url: str) -> None:
    # A fifth of real time: the order stays active long enough (~0.7 s) to be seen on the board.
    desk: Desk = open_desk(quiet_settings(sqlite_url, time_scale=0.2))
    board = desk.window.board
    board.active_only.setChecked(True)
    desk.run(desk.engine.submit("SOL-USDC", "2", "BUY"))
    desk.window.bridge.flush()
    assert board.model.rowCount() == 1  # still on its way: active
    desk.wait_idle()
    desk.qtbot.waitUntil(lambda: board.model.rowCount() == 0, timeout=3000)  # the throttled re-layout drops it


def test_history_loads_newest_first_in_pages(open_desk: Any, sqlite_url: str) -> None:
    first = open_desk()
    submitted = submit_all(first, [("SOL-USDC", str(amount), "BUY") for amount in range(1, 26)])
    first.close()

    second = open_desk(first_page=10, page=7)
    model = second.window.board.model
    second.qtbot.waitUntil(lambda: model.rowCount() == 25, timeout=5000)
    assert [model.order_at(row).id for row in range(25)] == [order.id for order in reversed(submitted)]
    assert model.index(0, Column.STATUS.index).data() == "CONFIRMED"


def test_cached_sort_keys_and_search_text_follow_updates(qtbot: QtBot) -> None:
    """The per-column key cache and the lower-cased search text change with the order, not only on load."""
    from ui.board.filter import BoardFilter

    model = BoardModel(default_catalog())
    model.append_history([make_order(number) for number in (3, 2, 1)])
    model.sort(Column.PRICE.index, Qt.SortOrder.AscendingOrder)  # builds the price keys: all empty
    cheap = replace(make_order(3), status=OrderStatus.BUILDING, dex=Venue.RAYDIUM, execution_price=Decimal("9.5"))
    dear = replace(make_order(1), status=OrderStatus.BUILDING, dex=Venue.METEORA, execution_price=Decimal("10.25"))
    model.apply({cheap.id: cheap, dear.id: dear})
    qtbot.waitUntil(lambda: [model.order_at(row).seq for row in range(3)] == [2, 3, 1], timeout=3000)

    retried = replace(cheap, status=OrderStatus.ROUTING, dex=None, execution_price=None, attempts=2)
    low = replace(make_order(2), status=OrderStatus.BUILDING, dex=Venue.RAYDIUM, execution_price=Decimal("5"))
    model.apply({retried.id: retried, low.id: low})  # a stale key would leave 3 at 9.5, after 2
    qtbot.waitUntil(lambda: [model.order_at(row).seq for row in range(3)] == [3, 2, 1], timeout=3000)
    row = model.row_of(retried.id)
    assert model.index(row, Column.VENUE.index).data() == ""  # the snapshot has no venue: none shown
    assert model.index(row, Column.PRICE.index).data() == ""

    confirmed = replace(dear, status=OrderStatus.CONFIRMED, tx_hash="5AbCdEfGh" + "x" * 78)
    model.apply({confirmed.id: confirmed})
    model.set_filter(BoardFilter(search="AbCdEfG"))  # a hash matches as typed (base58 is case-sensitive)
    assert [order.id for order in model.visible_orders()] == [confirmed.id]
    model.set_filter(BoardFilter())
    assert model.rowCount() == 3
