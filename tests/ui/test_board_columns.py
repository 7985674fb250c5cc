"""Board columns declared in one place, and what they show: errors, retries, queue places, dates, quotes."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from engine.model.domain import OrderStatus, Venue
from engine.trading.pairs import default_catalog
from tests.ui.test_board import make_order
from ui.board.columns import COLUMNS, Column, ColumnSpec
from ui.board.model import COPY_ROLE, BoardModel
from ui.board.view import BoardView
from ui.theme import ERROR_TEXT, MUTED_TEXT


def test_every_column_is_one_declaration_the_model_and_view_read(qtbot: QtBot) -> None:
    view = BoardView(default_catalog())
    qtbot.addWidget(view)
    model = view.model
    signature = "5J7K8L9MnPqRsTuVwXyZ" * 4 + "abcdefgh"
    order = replace(
        make_order(1),
        status=OrderStatus.CONFIRMED,
        dex=Venue.RAYDIUM,
        execution_price=Decimal("148.25"),
        tx_hash=signature,
        attempts=2,
        error=None,
    )
    model.apply({order.id: order})
    assert model.columnCount() == len(Column) == len(COLUMNS)
    header = view.table.horizontalHeader()
    for column in Column:
        spec = column.spec
        assert isinstance(spec, ColumnSpec)
        index = model.index(0, column.index)
        assert model.headerData(column.index, Qt.Orientation.Horizontal) == spec.title
        assert model.headerData(column.index, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole) == spec.tooltip
        assert index.data() == spec.display(order, model.context)
        assert header.sectionSize(column.index) == spec.width
        right = bool(index.data(Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight)
        assert right == spec.numeric
        assert isinstance(spec.sort_key(order), int | float)
    # Copies take the full value, never the elided text on screen.
    assert model.index(0, Column.ID.index).data() == order.id[:8]
    assert model.index(0, Column.ID.index).data(COPY_ROLE) == order.id
    assert model.index(0, Column.TX_HASH.index).data(COPY_ROLE) == signature


def test_error_retry_queue_place_date_and_quoted_price_read_as_a_trader_needs(qtbot: QtBot) -> None:
    model = BoardModel(default_catalog())
    waiting = [make_order(number) for number in (10, 11, 12)]
    model.apply({order.id: order for order in waiting})
    status = lambda order: model.index(model.row_of(order.id) or 0, Column.STATUS.index).data()  # noqa: E731
    assert [status(order) for order in waiting] == ["PENDING #1 in queue", "PENDING #2 in queue", "PENDING #3 in queue"]

    routing = replace(waiting[0], status=OrderStatus.ROUTING, attempts=1)
    model.apply({routing.id: routing})
    assert status(waiting[1]) == "PENDING #1 in queue"  # the head left: everyone moves up

    retry_at = datetime.now(UTC) + timedelta(seconds=2.5)
    failed_once = replace(
        routing, status=OrderStatus.PENDING, error="slippage exceeded: 0.8% > 0.5%", retry_at=retry_at
    )
    model.apply({failed_once.id: failed_once})
    assert re.fullmatch(r"retry 2 of 3 in [1-3] s", status(failed_once))
    row = model.row_of(failed_once.id) or 0
    assert model.index(row, Column.ERROR.index).data() == "slippage exceeded: 0.8% > 0.5%"
    assert model.index(row, Column.ERROR.index).data(Qt.ItemDataRole.ForegroundRole) == ERROR_TEXT
    due = replace(failed_once, retry_at=datetime.now(UTC) - timedelta(seconds=1))
    model.apply({due.id: due})
    assert status(due) == "retry 2 of 3, next up"
    unknown = replace(due, retry_at=None)
    model.apply({unknown.id: unknown})
    assert status(unknown) == "retry 2 of 3, waiting"

    building = replace(waiting[1], status=OrderStatus.BUILDING, dex=Venue.METEORA, execution_price=Decimal("2.5"))
    model.apply({building.id: building})
    price = model.index(model.row_of(building.id) or 0, Column.PRICE.index)
    assert price.data().endswith("quoted")
    assert price.data(Qt.ItemDataRole.ForegroundRole) == MUTED_TEXT
    confirmed = replace(building, status=OrderStatus.CONFIRMED, tx_hash="x" * 88)
    model.apply({confirmed.id: confirmed})
    price = model.index(model.row_of(confirmed.id) or 0, Column.PRICE.index)
    assert not price.data().endswith("quoted")
    assert price.data(Qt.ItemDataRole.ForegroundRole) is None

    # make_order's orders are from 12 Dec 2025: not today, so the date is shown.
    old = model.index(model.row_of(waiting[2].id) or 0, Column.TIME.index).data()
    assert re.fullmatch(r"\d\d \w{3} \d\d:\d\d:\d\d", old)
    today = replace(make_order(20), created_at=datetime.now(UTC), updated_at=datetime.now(UTC))
    model.apply({today.id: today})
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3}", model.index(0, Column.TIME.index).data())


def test_text_keys_in_bulk_order_like_the_texts_themselves() -> None:
    from ui.board.columns import text_key, text_keys

    texts = ["SOL-USDC", "SOL-USDT", "", "ab", "slippage exceeded", "née", "5J7K8L9MnPqRsT"]
    assert list(text_keys(texts)) == [text_key(text) for text in texts]
    ascii_only = [text for text in texts if text.isascii()]
    assert list(text_keys(ascii_only)) == [text_key(text) for text in ascii_only]
    ordered = sorted(ascii_only, key=lambda text: text[:8])
    assert sorted(ascii_only, key=text_key) == ordered
