"""History read as columns is the same history: the same orders, the same sort keys, the same board.

The desk loads older pages of a SQLite file without building an `Order` per row
(engine/storage/history_columns.py → ui/order_rows.py → ui/board/keys.py); everything it keeps must
be exactly what the `Order` path gives for the same rows, whatever the order went through.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.storage.history_columns import read_history_columns
from engine.storage.history_rows import read_history_page
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.ui.conftest import Desk, quiet_settings
from ui.board.columns import COLUMNS
from ui.board.keys import prepare_keys, prepare_packed
from ui.chart_model import ChartModel
from ui.packed_history import rows_from_history


def _every_kind_of_order(desk: Desk) -> None:
    engine = desk.engine
    desk.run(engine.submit_many(random_requests(default_catalog(), 120, seed=5)))
    desk.run(engine.submit("SOL-USDC", "40000", "BUY"))  # a split across both venues
    desk.run(engine.submit("SOL-RAY", "2", "SELL"))  # two hops
    desk.run(engine.submit("SOL-USDC", "3", "BUY", order_type="limit", limit_price="1"))  # waits
    cancelled = desk.run(engine.submit("SOL-USDC", "2", "SELL", order_type="limit", limit_price="100000"))
    desk.run(engine.cancel(cancelled.id))
    desk.qtbot.waitUntil(lambda: len(engine.active_orders()) == 1, timeout=15_000)


def test_columns_read_from_sqlite_are_the_stored_orders_and_give_the_same_keys(open_desk, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    desk = open_desk(quiet_settings(sqlite_url, failure_rate=0.3))
    _every_kind_of_order(desk)
    database = Path(sqlite_url.split("///", 1)[1])
    orders = read_history_page(database, limit=1000)
    columns = read_history_columns(database, limit=1000)
    assert len(orders) == len(columns) > 100
    rows = rows_from_history(columns)
    assert [rows.build(row) for row in range(len(rows))] == orders
    assert rows.state()["running"] == 1  # the waiting limit order, with its terms
    assert any(rows.odd_routes.values()), "the split and the two-hop route are kept whole"

    packed, built = prepare_packed(rows), prepare_keys(orders)
    for column in COLUMNS:
        assert np.array_equal(
            np.frombuffer(packed.columns[column], dtype=np.int64 if column.spec.int_key else np.float64),
            np.frombuffer(built.columns[column], dtype=np.int64 if column.spec.int_key else np.float64),
        ), column
    assert packed.categories == built.categories
    assert packed.status == built.status
    assert (packed.id_chars, packed.hash_chars) == (built.id_chars, built.hash_chars)


def test_a_desk_reopened_on_its_history_shows_every_order_as_stored(open_desk, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    first = open_desk(quiet_settings(sqlite_url, failure_rate=0.3))
    _every_kind_of_order(first)
    first.close()
    desk = open_desk(quiet_settings(sqlite_url), first_page=10, page=40)  # most of it read as columns
    stored = desk.run(desk.engine.orders_page(limit=1000))
    desk.qtbot.waitUntil(lambda: desk.window.board.model.total == len(stored), timeout=10_000)
    on_board = {order.id: order for order in desk.window.board.model.orders()}
    for order in stored:
        kept = on_board[order.id]
        if order.is_terminal:
            assert kept == order.evolve(logs=()), order.id
    fills = desk.window.blotter.fills_model.fills()
    assert sorted(fill.id for fill in fills) == sorted(o.id for o in stored if o.status.value == "CONFIRMED")
    chart = desk.window.chart.model
    from_orders = ChartModel(chart.formats)
    from_orders.apply(stored)
    for pair in {order.pair for order in stored}:
        by_order = lambda mark: mark.order_id  # noqa: E731
        assert sorted(chart.fills(pair), key=by_order) == sorted(from_orders.fills(pair), key=by_order), pair
