"""Cancelling from the desk: one order from its detail view, a whole burst from the Order menu."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from engine.model.domain import OrderStatus
from tests.ui.conftest import Desk, quiet_settings


def message(desk: Desk) -> str:
    return desk.window.toast.text


def test_cancel_in_the_detail_view_cancels_a_queued_order(open_desk: Any, sqlite_url: str) -> None:
    desk: Desk = open_desk(quiet_settings(sqlite_url, rate_limit=1, slippage_tolerance="0.5"))
    desk.run(desk.engine.submit("SOL-USDC", "1", "BUY"))
    waiting = desk.run(desk.engine.submit("SOL-USDC", "2", "BUY"))  # held PENDING by the rate limit
    desk.window.bridge.flush()
    dialog = desk.window.order_windows.open_detail(waiting.id)
    assert dialog is not None
    assert dialog.cancel_button.isEnabled()

    dialog.cancel_button.click()
    desk.qtbot.waitUntil(lambda: dialog.cancel_note.text() == "Cancelled: no swap was sent", timeout=5000)
    desk.qtbot.waitUntil(lambda: dialog.order.status is OrderStatus.CANCELLED, timeout=5000)
    assert not dialog.cancel_button.isEnabled()
    # The toast comes after the desk has read the order back; the board may hear CANCELLED first.
    desk.qtbot.waitUntil(lambda: message(desk) == f"Order {waiting.id[:8]} cancelled", timeout=5000)
    stored = desk.run(desk.engine.order(waiting.id))
    assert stored is not None
    assert stored.status is OrderStatus.CANCELLED


def test_cancel_all_queued_stops_a_burst_in_one_keystroke(open_desk: Any, sqlite_url: str) -> None:
    desk: Desk = open_desk(quiet_settings(sqlite_url, rate_limit=5, slippage_tolerance="0.5"))
    desk.run(desk.window.desk_actions.burst(500))
    desk.qtbot.waitUntil(lambda: desk.engine.stats().window_used == 5, timeout=5000)
    desk.qtbot.waitUntil(lambda: desk.engine.owned_count() == 495, timeout=5000)

    said: list[str] = []
    desk.window.toast.shown.connect(said.append)
    ticket = desk.window.ticket
    ticket.amount.setFocus()
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    desk.qtbot.keyClick(ticket.amount, Qt.Key.Key_X, ctrl_shift)

    desk.qtbot.waitUntil(lambda: any(m.startswith("Cancelled 495 queued orders") for m in said), timeout=10_000)
    # The burst's own notice follows as its last order ends: most of it was cancelled.
    desk.qtbot.waitUntil(lambda: any(m.startswith("Burst of 500 done") for m in said), timeout=10_000)
    done = next(m for m in said if m.startswith("Burst of 500 done"))
    assert "495 cancelled" in done
    assert "5 confirmed" in done
    desk.qtbot.waitUntil(lambda: not desk.engine.owned_count(), timeout=10_000)
    counts = desk.run(desk.engine.counts_by_status())
    assert counts.get(OrderStatus.CANCELLED) == 495
    assert counts.get(OrderStatus.CONFIRMED) == 5
    desk.window.bridge.flush()
    desk.window.status.refresh()
    assert desk.window.status.queued.text().startswith("0 queued")


def test_the_status_bar_tells_who_runs_what(open_desk: Any, sqlite_url: str) -> None:
    desk: Desk = open_desk(quiet_settings(sqlite_url, rate_limit=2, slippage_tolerance="0.5"))
    desk.run(desk.window.desk_actions.burst(6))
    status = desk.window.status
    desk.qtbot.waitUntil(lambda: desk.engine.owned_count() == 4, timeout=5000)
    status._ask_others()
    desk.qtbot.waitUntil(lambda: status.ownership.text() == "this desk runs 4 · others 0", timeout=5000)
