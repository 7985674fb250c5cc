"""The ticket knows the account: what the order spends, Max and Half, no button for what is not covered,
and a question before a limit far through the market (issue 24)."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtWidgets import QMessageBox

from engine.model.domain import Direction, OrderType
from tests.ui.conftest import Desk


def _with_account(desk: Desk, balances: str) -> None:
    desk.run(desk.engine.reset_account(balances))
    desk.run(desk.window.account_panel.reload())


def _type(desk: Desk, pair: str, amount: str) -> None:
    ticket = desk.window.ticket
    ticket.pair.setCurrentText(pair)
    ticket.amount.clear()
    desk.qtbot.keyClicks(ticket.amount, amount)


def test_the_ticket_shows_what_the_order_spends_and_refuses_what_is_not_covered(desk: Desk) -> None:
    _with_account(desk, "USDC=1000,SOL=2")
    ticket = desk.window.ticket
    sent: list[object] = []
    ticket.submit_requested.connect(lambda request: sent.append(request))
    _type(desk, "SOL-USDC", "10")
    assert ticket.funds.isVisible()
    assert ticket.funds.available.text() == "Available 1,000.00 USDC"
    assert not ticket.submit.isEnabled(), "ten SOL at ~149 is more than 1,000 USDC"
    assert ticket.submit_error.isVisible()
    assert ticket.submit_error.text().startswith("Not enough USDC: needs ")
    assert ticket.submit_error.text().endswith(", 1,000.00 available")
    assert not ticket.try_submit()
    assert sent == []

    ticket.set_side(Direction.SELL)
    assert ticket.funds.available.text() == "Available 2.0000 SOL"
    assert not ticket.submit.isEnabled()
    assert ticket.submit_error.text() == "Not enough SOL: needs 10.0000, 2.0000 available"
    ticket.amount.setText("1.5")
    assert ticket.submit.isEnabled()
    assert not ticket.submit_error.isVisible()


def test_max_and_half_fill_in_what_the_balance_covers_and_max_is_accepted(desk: Desk) -> None:
    _with_account(desk, "USDC=1000,SOL=2")
    ticket = desk.window.ticket
    _type(desk, "SOL-USDC", "1")
    ticket.funds.max.click()
    most = Decimal(ticket.amount.text())
    assert ticket.decision is not None
    max_spent = ticket.decision.chosen.limit_total
    assert Decimal(990) <= max_spent <= Decimal(1000), "Max spends the balance, price bound and impact included"
    assert ticket.submit.isEnabled()
    ticket.funds.half.click()
    half = Decimal(ticket.amount.text())
    assert abs(half - most / 2) <= Decimal("0.01")
    ticket.funds.max.click()
    assert ticket.try_submit()
    desk.qtbot.waitUntil(lambda: desk.window.board.model.rowCount() == 1, timeout=5000)
    assert not ticket.submit_error.isVisible(), "the engine took it: no shortfall"

    ticket.set_side(Direction.SELL)
    ticket.funds.max.click()
    assert ticket.amount.text() == "2.0000"


def test_a_limit_far_through_the_market_asks_first(desk: Desk) -> None:
    ticket = desk.window.ticket
    ticket.limit_warning_pct = 5.0
    sent: list[object] = []
    ticket.submit_requested.connect(lambda request: sent.append(request))
    _type(desk, "SOL-USDC", "1")
    ticket.order_type.setCurrentText("Limit")
    ticket.limit_price.setText("1490")  # a BUY at ten times the market: it would fill at once, at the market
    assert ticket.try_submit()
    box = ticket.confirmation
    assert isinstance(box, QMessageBox)
    assert box.isVisible()
    assert "through the market" in box.text()
    assert box.icon() is QMessageBox.Icon.Warning
    assert sent == [], "nothing is sent before the trader answers"
    box.button(QMessageBox.StandardButton.Ok).click()
    assert len(sent) == 1

    desk.qtbot.waitUntil(ticket.submit.isEnabled, timeout=5000)  # the first one is stored
    assert ticket.decision is not None
    near = (ticket.decision.chosen.effective_price * Decimal("1.02")).quantize(Decimal("0.01"))
    ticket.limit_price.setText(str(near))  # 2 % through, within the 5 %: sent without a question
    assert ticket.try_submit()
    assert len(sent) == 2
    assert getattr(sent[1], "order_type", None) is OrderType.LIMIT
    # The test ends with this order still being stored: closing the desk waits for it (it hung before).


def test_the_warning_is_a_setting_and_settings_hand_the_focus_back_to_the_ticket(desk: Desk) -> None:
    dialog = desk.window.settings_flow.open()
    assert dialog.limit_warning.value() == 5.0
    dialog.limit_warning.setValue(0)  # "never"
    dialog.accept()
    assert desk.window.settings.limit_warning_pct == 0
    ticket = desk.window.ticket
    assert ticket.limit_warning_pct == 0
    assert ticket.amount.hasFocus(), "back to trading, not to the board's search"
    sent: list[object] = []
    ticket.submit_requested.connect(lambda request: sent.append(request))
    _type(desk, "SOL-USDC", "1")
    ticket.order_type.setCurrentText("Limit")
    ticket.limit_price.setText("1490")
    assert ticket.try_submit()
    assert len(sent) == 1, "no question when the warning is off"
    desk.qtbot.waitUntil(lambda: desk.window.board.model.rowCount() == 1, timeout=5000)
