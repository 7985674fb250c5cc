"""The order ticket, driven with the keyboard as a trader would."""

from __future__ import annotations

import gc
import weakref

import pytest
from PySide6.QtCore import Qt

from engine.model.domain import Direction, OrderStatus
from tests.ui.conftest import Desk


def type_order(desk: Desk, pair: str, amount: str) -> None:
    ticket = desk.window.ticket
    ticket.pair.lineEdit().clear()
    desk.qtbot.keyClicks(ticket.pair.lineEdit(), pair)
    ticket.amount.clear()
    desk.qtbot.keyClicks(ticket.amount, amount)


def test_enter_puts_the_order_on_the_board_and_it_reaches_confirmed(desk: Desk) -> None:
    type_order(desk, "sol-usdc", "10.5")
    ticket = desk.window.ticket
    assert ticket.submit.isEnabled()
    assert ticket.quotes.item(0, 0) is not None
    assert ticket.quotes.item(1, 0) is not None
    headers = [ticket.quotes.horizontalHeaderItem(column).text() for column in (1, 2)]
    assert sorted(header.removeprefix("★ ") for header in headers) == ["meteora", "raydium"]
    assert sum(header.startswith("★") for header in headers) == 1
    assert "bps" in ticket.verdict.text()

    desk.qtbot.keyClick(ticket.amount, Qt.Key.Key_Return)

    board = desk.window.board.model
    desk.qtbot.waitUntil(lambda: board.rowCount() == 1, timeout=5000)
    desk.qtbot.waitUntil(lambda: board.order_at(0).status is OrderStatus.CONFIRMED, timeout=10_000)
    order = board.order_at(0)
    assert (order.pair, str(order.amount), order.direction) == ("SOL-USDC", "10.5", Direction.BUY)
    assert order.tx_hash
    assert order.dex is not None
    assert order.execution_price is not None
    stored = desk.run(desk.engine.store.get(order.id))
    assert stored is not None
    assert stored.status is OrderStatus.CONFIRMED


def test_sell_shortcut_switches_the_side_and_the_submit_button(desk: Desk) -> None:
    ticket = desk.window.ticket
    type_order(desk, "JUP-USDC", "250")
    desk.qtbot.keyClick(desk.window, Qt.Key.Key_F3)
    assert ticket.side is Direction.SELL
    assert ticket.submit.text() == "Sell 250 JUP"
    assert ticket.quotes.item(3, 0).text() == "Min received"
    assert ticket.quotes.item(3, 1).text().endswith(" USDC")
    assert "F3" in ticket.sell.toolTip()


@pytest.mark.parametrize(
    ("pair", "amount", "field", "message"),
    [
        ("SOL-USDC", "-5", "amount", "Amount: must be greater than 0"),
        ("SOL-USDC", "0.0001", "amount", "Amount: must be at least 0.001 SOL"),
        ("SOL-USDC", "1.12345", "amount", "Amount: at most 4 decimal places for SOL-USDC"),
        ("SOL-USDC", "ten", "amount", "Amount: must be a plain decimal number"),
        ("SOL-USDC", " 1", "amount", "Amount: "),  # spaces are refused as on the CLI and the API
        ("DOGE-USDC", "10", "pair", "Pair: must be one of the listed pairs"),
    ],
)
def test_bad_input_names_the_rule_and_queues_nothing(
    desk: Desk, pair: str, amount: str, field: str, message: str
) -> None:
    ticket = desk.window.ticket
    type_order(desk, pair, amount)
    label = ticket.amount_error if field == "amount" else ticket.pair_error
    assert label.isVisible()
    assert label.text().startswith(message)
    assert not ticket.submit.isEnabled()

    desk.qtbot.keyClick(ticket.amount, Qt.Key.Key_Return)
    desk.window.bridge.flush()

    assert desk.window.board.model.rowCount() == 0
    assert desk.run(desk.engine.store.counts_by_status()) == {}
    assert label.text().startswith(message)


def test_enter_on_an_empty_amount_says_it_is_required(desk: Desk) -> None:
    ticket = desk.window.ticket
    assert not ticket.amount_error.isVisible()  # no shouting before anything was typed
    desk.qtbot.keyClick(ticket.amount, Qt.Key.Key_Return)
    assert ticket.amount_error.text() == "Amount: is required"
    assert desk.window.board.model.rowCount() == 0


def test_enter_submits_from_expires_and_errors_use_the_tickets_labels(desk: Desk) -> None:
    ticket = desk.window.ticket
    sent: list[object] = []
    ticket.submit_requested.connect(sent.append)
    type_order(desk, "SOL-USDC", "1")
    ticket.order_type.setCurrentText("Limit")
    desk.qtbot.keyClicks(ticket.limit_price, "1")
    desk.qtbot.keyClicks(ticket.expires, "-5")
    desk.qtbot.keyClick(ticket.expires, Qt.Key.Key_Return)
    assert ticket.limit_error.text().startswith("Expires in: "), "the label's words, not expiresIn"
    assert sent == []
    ticket.expires.clear()
    desk.qtbot.keyClicks(ticket.expires, "60")
    desk.qtbot.keyClick(ticket.expires, Qt.Key.Key_Return)
    assert len(sent) == 1, "Enter in Expires in (s) submits"


def test_a_ticket_showing_a_problem_keeps_nothing_of_what_called_it(desk: Desk) -> None:
    """An empty ticket re-checks itself on every market update the bridge hands on. The refusal it
    shows must not keep the frames that called it: they hold the bridge's whole batch of updates,
    which then waited for a full collection (100-200 ms on the loop with a busy board) to be freed."""

    class Batch:
        """Stands for what the bridge's flush holds while the ticket refreshes."""

    def flush() -> weakref.ref[Batch]:
        batch = Batch()
        desk.window.ticket.refresh_quote()
        return weakref.ref(batch)

    desk.window.ticket.amount.clear()
    gc.disable()
    try:
        held = flush()
        assert held() is None, "the batch lives on in a reference cycle"
    finally:
        gc.enable()
