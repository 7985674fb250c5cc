"""The board's rows without Qt: slots never move, the lanes give the natural order, counts follow updates."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from engine.model.domain import Direction, Order, OrderStatus
from engine.trading.pairs import default_catalog
from ui.board.context import BoardContext
from ui.board.slots import BoardSlots, prepare_page


def make_order(number: int, status: OrderStatus = OrderStatus.PENDING) -> Order:
    moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=number)
    return Order(
        id=f"{number:08d}-0000-4000-8000-000000000000",
        seq=number,
        pair="SOL-USDC",
        direction=Direction.BUY,
        amount=Decimal(number),
        status=status,
        created_at=moment,
        updated_at=moment,
    )


def test_new_orders_on_top_history_below_and_no_slot_ever_moves() -> None:
    slots = BoardSlots(BoardContext.for_catalog(default_catalog()))
    first = slots.add_live([make_order(10), make_order(11)])
    page = slots.add_history(prepare_page([make_order(5, OrderStatus.CONFIRMED), make_order(4, OrderStatus.FAILED)]))
    later = slots.add_live([make_order(12)])
    assert (first, page, later) == ([0, 1], [2, 3], [4])
    shown = [slots.orders[slots.natural_slot(row)].seq for row in range(len(slots))]
    assert shown == [12, 11, 10, 5, 4]  # newest first, history below
    assert [slots.natural_row(slot) for slot in range(len(slots))] == [2, 1, 3, 4, 0]
    assert slots.slot[make_order(11).id] == 1
    assert slots.max_seq == 12
    assert slots.status_counts == {OrderStatus.PENDING: 3, OrderStatus.CONFIRMED: 1, OrderStatus.FAILED: 1}


def test_a_newer_state_replaces_the_old_one_in_its_slot_and_moves_the_counts() -> None:
    slots = BoardSlots(BoardContext.for_catalog(default_catalog()))
    [slot] = slots.add_live([make_order(7)])
    before = slots.replace(slot, replace(make_order(7), status=OrderStatus.ROUTING, seq=9))
    assert before.status is OrderStatus.PENDING
    assert slots.orders[slot].status is OrderStatus.ROUTING
    assert slots.status_counts[OrderStatus.PENDING] == 0
    assert slots.status_counts[OrderStatus.ROUTING] == 1
    assert slots.max_seq == 9
