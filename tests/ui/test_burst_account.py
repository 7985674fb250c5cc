"""Burst works with the account it is given: only pairs and sides it can cover, said before OK (issue 24)."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtWidgets import QDialogButtonBox, QInputDialog

from engine.account.model import DEFAULT_START
from engine.model.domain import Direction, OrderStatus
from tests.ui.conftest import Desk


def _said(dialog: QInputDialog) -> str:
    """The dialog's words as one line (it wraps them to fit a laptop screen)."""
    return " ".join(dialog.labelText().split())


def _ok_button_enabled(desk: Desk) -> bool:
    dialog = desk.window.desk_actions.burst_dialog
    assert dialog is not None
    buttons = dialog.findChild(QDialogButtonBox)
    assert buttons is not None
    return buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()


def test_a_burst_on_the_desks_own_account_is_sent_whole_and_spends_only_what_it_holds(desk: Desk) -> None:
    desk.run(desk.engine.ensure_account(DEFAULT_START))  # USDC 10,000 / USDT 10,000 / SOL 10
    submitted = desk.run(desk.window.desk_actions.burst(300))
    assert len(submitted) == 300
    spent = {
        order.pair.split("-")[1] if order.direction is Direction.BUY else order.pair.split("-")[0]
        for order in submitted
    }
    assert spent <= {"USDC", "USDT", "SOL"}
    assert len({order.pair for order in submitted}) >= 6, "spread over the pairs the account covers"
    desk.wait_idle()
    counts = desk.run(desk.engine.counts_by_status())
    assert sum(counts.values()) == 300
    assert counts.get(OrderStatus.CONFIRMED, 0) == 300
    view = desk.run(desk.engine.account())
    assert view is not None
    assert all(balance.available >= 0 for balance in view.balances)
    assert desk.window.toast.text.endswith("300 confirmed"), "the burst's own notice: every order filled"


def test_the_burst_dialog_says_which_pairs_before_ok_and_refuses_what_nothing_covers(desk: Desk) -> None:
    desk.run(desk.engine.ensure_account(DEFAULT_START))
    dialog = desk.window.desk_actions.ask_burst()
    desk.qtbot.waitUntil(lambda: "Drawn from what the account covers" in _said(dialog), timeout=5000)
    text = _said(dialog)
    assert max(len(line) for line in dialog.labelText().splitlines()) <= 90, "no wider than a laptop screen"
    assert "SOL-USDC (buy, sell)" in text
    assert "Left out (the account cannot cover them at this count):" in text
    assert "WIF-USDC (sell)" in text.split("Left out")[1], "no WIF in the account: its SELL side is left out"
    assert _ok_button_enabled(desk)
    dialog.reject()

    desk.run(desk.engine.reset_account({"USDC": Decimal(1)}))
    dialog = desk.window.desk_actions.ask_burst()
    desk.qtbot.waitUntil(lambda: "cannot cover 200 orders on any pair" in _said(dialog), timeout=5000)
    assert not _ok_button_enabled(desk)
    dialog.setIntValue(1)
    assert "Drawn from what the account covers: " in _said(dialog)
    assert _ok_button_enabled(desk)
    dialog.reject()
