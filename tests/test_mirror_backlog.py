"""The Redis mirror's backlog without Redis: what is written, in what order, and what is given up when full.

tests/test_mirror.py checks the same promises end to end against real Redis servers; these pin the
bookkeeping itself (drop-oldest, each order's latest state kept, settle after a batch landed) in
milliseconds, including the interleavings a live server makes hard to provoke on purpose.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.listeners.mirror_backlog import BacklogItem, MirrorBacklog
from engine.model.domain import Direction, Order, OrderStatus


def backlog(*, limit: int = 100, terminal_limit: int = 100, batch_size: int = 50) -> MirrorBacklog:
    return MirrorBacklog(backlog_limit=limit, terminal_limit=terminal_limit, batch_size=batch_size)


def add(into: MirrorBacklog, order_id: str, status: str, *, terminal: bool = False) -> None:
    into.add(order_id, {"orderId": order_id, "status": status}, terminal, None)


def written(batch: list[BacklogItem]) -> list[tuple[str, str]]:
    return [(item.order_id, item.message["status"]) for item in batch]


def order(number: int, status: OrderStatus) -> Order:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    return Order(
        id=f"order-{number}",
        seq=number,
        pair="SOL-USDC",
        direction=Direction.BUY,
        amount=Decimal(1),
        status=status,
        created_at=moment,
        updated_at=moment,
    )


def test_updates_are_written_in_the_order_they_came_then_forgotten() -> None:
    mirror = backlog()
    add(mirror, "a", "PENDING")
    add(mirror, "b", "PENDING")
    add(mirror, "a", "ROUTING")
    assert mirror.pending == 3
    batch = mirror.take_batch()
    assert written(batch) == [("a", "PENDING"), ("b", "PENDING"), ("a", "ROUTING")]
    assert mirror.take_batch() == batch  # nothing leaves before it has landed
    mirror.settle(batch)
    assert mirror.pending == 0
    assert mirror.published == 3
    assert mirror.take_batch() == []
    assert not mirror.holds("a")
    assert not mirror.holds("b")


def test_a_batch_is_at_most_batch_size_and_the_rest_follows_in_order() -> None:
    mirror = backlog(batch_size=2)
    for status in ("PENDING", "ROUTING", "BUILDING"):
        add(mirror, "a", status)
    first = mirror.take_batch()
    assert written(first) == [("a", "PENDING"), ("a", "ROUTING")]
    mirror.settle(first)
    assert written(mirror.take_batch()) == [("a", "BUILDING")]
    assert mirror.holds("a")
    assert mirror.is_queued("a")


def test_a_full_backlog_drops_the_oldest_publish_but_keeps_each_orders_latest_state() -> None:
    mirror = backlog(limit=2)
    add(mirror, "a", "PENDING")
    add(mirror, "b", "PENDING")
    add(mirror, "c", "PENDING")  # drops a's PENDING: its latest state, so it is kept aside
    add(mirror, "b", "ROUTING")  # drops b's PENDING, superseded at once: nothing kept for b
    assert mirror.dropped == 2
    assert mirror.pending == 3
    assert mirror.holds("a")
    assert not mirror.is_queued("a")
    # The kept latest states go first; each order's own publishes stay in order.
    assert written(mirror.take_batch()) == [("a", "PENDING"), ("c", "PENDING"), ("b", "ROUTING")]


def test_a_newer_update_replaces_the_kept_state_it_supersedes() -> None:
    mirror = backlog(limit=1)
    add(mirror, "a", "PENDING")
    add(mirror, "b", "PENDING")  # a's PENDING is kept aside
    add(mirror, "a", "ROUTING")  # drops b's PENDING (kept aside), and a's kept PENDING is stale now
    assert written(mirror.take_batch()) == [("b", "PENDING"), ("a", "ROUTING")]


def test_kept_ended_states_are_bounded_and_the_oldest_are_forgotten_first() -> None:
    mirror = backlog(limit=1, terminal_limit=2)
    for name in ("a", "b", "c", "d"):
        add(mirror, name, "CONFIRMED", terminal=True)
    add(mirror, "e", "PENDING")
    # a, b, c, d were each dropped from the queue; only the two newest ended states are kept.
    assert mirror.dropped == 4
    assert mirror.snapshots_dropped == 2
    assert not mirror.holds("a")
    assert not mirror.holds("b")
    assert written(mirror.take_batch()) == [("c", "CONFIRMED"), ("d", "CONFIRMED"), ("e", "PENDING")]


def test_settle_leaves_what_was_dropped_or_superseded_while_the_batch_was_in_flight() -> None:
    mirror = backlog(limit=2)
    add(mirror, "a", "PENDING")
    add(mirror, "b", "PENDING")
    batch = mirror.take_batch()
    add(mirror, "a", "ROUTING")  # drops a's PENDING (in flight); a's newer state is queued
    add(mirror, "c", "PENDING")  # drops b's PENDING (in flight), kept aside as b's latest
    mirror.settle(batch)
    assert mirror.published == 2
    # b's kept item was the one that landed, so it is forgotten; the later publishes stay.
    assert not mirror.holds("b")
    assert written(mirror.take_batch()) == [("a", "ROUTING"), ("c", "PENDING")]
    assert mirror.pending == 2


def test_known_ids_cover_active_queued_and_kept_orders_and_ended_ones_leave_active() -> None:
    mirror = backlog(limit=1)
    add(mirror, "a", "PENDING")
    add(mirror, "b", "CONFIRMED", terminal=True)  # drops a's PENDING, kept aside
    assert mirror.known_ids() == {"a", "b"}
    mirror.settle(mirror.take_batch())
    assert mirror.known_ids() == {"a"}  # still active, its latest state written
    assert written(mirror.sent_active()) == [("a", "PENDING")]


def test_adopted_orders_are_active_and_written_but_nothing_is_queued_for_them() -> None:
    mirror = backlog()
    mirror.adopt([order(1, OrderStatus.ROUTING), order(2, OrderStatus.CONFIRMED)])
    assert mirror.pending == 0
    assert not mirror.holds("order-1")
    assert mirror.known_ids() == {"order-1"}  # an ended order is not adopted
    assert [item.order_id for item in mirror.sent_active()] == ["order-1"]
    add(mirror, "order-1", "BUILDING")
    mirror.adopt([order(1, OrderStatus.ROUTING)])  # already known: its queued state stays the latest
    assert mirror.sent_active() == []
    assert written(mirror.take_batch()) == [("order-1", "BUILDING")]


def test_an_items_line_is_its_updates_own_text_when_it_has_one() -> None:
    mirror = backlog()
    mirror.add("a", {"status": "PENDING"}, False, '{"made":"once"}')
    add(mirror, "b", "PENDING")
    first, second = mirror.take_batch()
    assert first.line == '{"made":"once"}'
    assert second.line == '{"orderId":"b","status":"PENDING"}'


@settings(max_examples=300, deadline=None)
@given(
    adds=st.lists(st.tuples(st.sampled_from("abcd"), st.booleans()), max_size=30),
    limit=st.integers(1, 6),
    batch_size=st.integers(1, 6),
)
def test_held_after_a_batch_says_what_settling_it_will_leave(
    adds: list[tuple[str, bool]], limit: int, batch_size: int
) -> None:
    """Who may ride with a batch (engine/listeners/mirror_riders.py): the orders with nothing left once it landed."""
    mirror = backlog(limit=limit, terminal_limit=2, batch_size=batch_size)
    for number, (name, terminal) in enumerate(adds):
        add(mirror, name, f"state-{number}", terminal=terminal)
    batch = mirror.take_batch()
    held = mirror.held_after(batch)
    predicted = {name: held(name) for name in "abcd"}
    mirror.settle(batch)
    assert predicted == {name: mirror.holds(name) for name in "abcd"}
