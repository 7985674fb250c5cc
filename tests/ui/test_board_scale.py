"""The board model's own sort and filter agree with a plain Python reference on a big, mixed board.

No timing here (speed is `dexdesk bench board`): only that 20,000 orders, loaded as history pages
and as live updates, then changed, come out in exactly the order and selection a user expects.
"""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from engine.model.domain import Direction, Order, OrderStatus, Venue
from engine.trading.pairs import default_catalog
from tests.ui.test_board import make_order
from ui.board.columns import COLUMNS, Column, elapsed_seconds
from ui.board.filter import BoardFilter
from ui.board.model import BoardModel

COUNT = 20_000


def random_order(number: int, rng: random.Random, pairs: list[str]) -> Order:
    status = rng.choice(list(OrderStatus))
    venue = rng.choice([None, Venue.RAYDIUM, Venue.METEORA])
    return make_order(
        number,
        pair=rng.choice(pairs),
        direction=rng.choice(list(Direction)),
        amount=Decimal(rng.randint(1, 50_000)) / 100,
        status=status,
        dex=venue,
        execution_price=None if venue is None else Decimal(rng.randint(1, 10**6)) / 1000,
        tx_hash=None if status is not OrderStatus.CONFIRMED else f"{rng.getrandbits(200):x}",
        attempts=rng.randint(0, 3),
        error=rng.choice([None, "slippage exceeded", "network timeout", "blockhash expired"]),
    )


def build(rng: random.Random) -> BoardModel:
    pairs = list(default_catalog().names)
    model = BoardModel(default_catalog())
    orders = [random_order(number, rng, pairs) for number in range(1, COUNT + 1)]
    history, live = orders[: COUNT // 2], orders[COUNT // 2 :]
    for start in range(len(history), 0, -5000):  # newest page first, as the desk loads them
        model.append_history(list(reversed(history[max(0, start - 5000) : start])))
    for start in range(0, len(live), 700):
        model.apply({order.id: order for order in live[start : start + 700]})
    return model


def reference_sort(natural: list[Order], column: Column, descending: bool) -> list[str]:
    key = column.spec.sort_key
    if descending:
        return [order.id for order in sorted(natural, key=key, reverse=True)]
    return [order.id for order in sorted(reversed(natural), key=key)]


def shown_ids(model: BoardModel) -> list[str]:
    return [order.id for order in model.visible_orders()]


def check_every_sort(model: BoardModel, chosen: BoardFilter, columns: tuple[Column, ...] = COLUMNS) -> None:
    natural = [order for order in model.orders() if chosen.accepts(order)]
    for column in columns:
        for descending in (False, True):
            model.sort(column.index, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder)
            if column.spec.ticks:  # moves with the clock: ordered, and the same orders
                seconds = [elapsed_seconds(order) for order in model.visible_orders()]
                assert seconds == sorted(seconds, reverse=descending)
                assert sorted(shown_ids(model)) == sorted(order.id for order in natural)
                continue
            assert shown_ids(model) == reference_sort(natural, column, descending), (column, descending)


def test_sorts_and_filters_match_a_reference_at_scale(qtbot: QtBot) -> None:
    rng = random.Random(15)
    model = build(rng)
    assert model.rowCount() == COUNT
    assert [order.seq for order in model.orders()] == list(range(COUNT, 0, -1))  # newest first

    check_every_sort(model, BoardFilter())
    filters: list[dict[str, Any]] = [
        {"statuses": frozenset({OrderStatus.FAILED, OrderStatus.PENDING})},
        {"active_only": True, "pair": "JUP-USDC"},
        {"search": "meteora"},
        {"search": "sell", "statuses": frozenset({OrderStatus.CONFIRMED})},
        {"search": "0000"},
    ]
    for fields in filters:
        chosen = BoardFilter(**fields)
        model.set_filter(chosen)
        check_every_sort(model, chosen, (Column.TIME, Column.STATUS, Column.TX_HASH, Column.ELAPSED))

    # Changes while sorted and filtered: after the (throttled) re-layout the board agrees again.
    chosen = BoardFilter(statuses=frozenset({OrderStatus.CONFIRMED, OrderStatus.FAILED}))
    model.set_filter(chosen)
    model.sort(Column.PRICE.index, Qt.SortOrder.DescendingOrder)
    natural = list(model.orders())
    changed = {}
    for order in rng.sample(natural, 2000):
        changed[order.id] = replace(
            order,
            status=rng.choice(list(OrderStatus)),
            execution_price=Decimal(rng.randint(1, 10**6)) / 1000,
        )
    model.apply(changed)
    expected = reference_sort([o for o in model.orders() if chosen.accepts(o)], Column.PRICE, descending=True)
    qtbot.waitUntil(lambda: shown_ids(model) == expected, timeout=5000)


def test_a_growing_search_narrows_the_rows_shown_in_the_same_order(qtbot: QtBot) -> None:
    model = build(random.Random(9))
    model.sort(Column.AMOUNT.index, Qt.SortOrder.AscendingOrder)
    for typed in ("j", "ju", "jup", "jup-"):
        chosen = BoardFilter(search=typed)
        model.set_filter(chosen)
        natural = [order for order in model.orders() if chosen.accepts(order)]
        assert shown_ids(model) == reference_sort(natural, Column.AMOUNT, descending=False)
