"""The desk driven by the keyboard, as a trader uses it all day: the pair box, start focus, every shortcut."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QLineEdit

from engine.model.domain import Direction
from tests.ui.conftest import Desk
from ui.desk_layout import fit_to_screen


def stored_count(desk: Desk) -> int:
    return sum(desk.run(desk.engine.counts_by_status()).values())


def test_enter_in_the_pair_box_takes_the_only_match_and_moves_to_amount_without_submitting(desk: Desk) -> None:
    ticket = desk.window.ticket
    desk.qtbot.keyClicks(ticket.amount, "100")
    ticket.pair_line.setFocus()
    ticket.pair_line.selectAll()
    desk.qtbot.keyClicks(ticket.pair_line, "jup-u")
    assert not ticket.pair_error.isVisible(), "a half-typed pair is not an error yet"

    desk.qtbot.keyClick(ticket.pair_line, Qt.Key.Key_Return)

    assert ticket.pair.currentText() == "JUP-USDC"
    assert desk.window.focusWidget() is ticket.amount
    assert ticket.amount.selectedText() == "100"
    desk.window.bridge.flush()
    assert desk.window.board.model.rowCount() == 0
    assert stored_count(desk) == 0, "picking a pair never sends an order"
    assert ticket.submit.text() == "Buy 100 JUP"
    assert "bps" in ticket.verdict.text(), "the quote is shown before anything is sent"


def test_down_and_enter_in_the_completer_list_pick_the_pair_and_never_submit(desk: Desk) -> None:
    ticket = desk.window.ticket
    desk.qtbot.keyClicks(ticket.amount, "5")
    ticket.pair_line.setFocus()
    ticket.pair_line.selectAll()
    desk.qtbot.keyClicks(ticket.pair_line, "usd")
    popup = ticket._popup
    desk.qtbot.waitUntil(popup.isVisible, timeout=3000)
    desk.qtbot.keyClick(popup, Qt.Key.Key_Down)
    picked = str(popup.currentIndex().data())
    desk.qtbot.keyClick(popup, Qt.Key.Key_Return)

    assert ticket.pair.currentText() == picked
    assert not popup.isVisible()
    assert desk.window.focusWidget() is ticket.amount
    desk.window.bridge.flush()
    assert stored_count(desk) == 0


def test_enter_on_several_matches_opens_the_list_and_picks_nothing(desk: Desk) -> None:
    ticket = desk.window.ticket
    ticket.pair_line.setFocus()
    ticket.pair_line.selectAll()
    desk.qtbot.keyClicks(ticket.pair_line, "jup")
    ticket._popup.hide()
    desk.qtbot.keyClick(ticket.pair_line, Qt.Key.Key_Return)
    assert ticket._popup.isVisible(), "JUP-USDC and JUP-SOL: the trader picks one"
    assert ticket.pair.currentText() == "jup"
    assert not ticket.pair_error.isVisible()
    assert stored_count(desk) == 0


def test_enter_on_a_pair_that_is_not_listed_names_the_rule_and_stays(desk: Desk) -> None:
    ticket = desk.window.ticket
    ticket.pair_line.setFocus()
    ticket.pair_line.selectAll()
    desk.qtbot.keyClicks(ticket.pair_line, "DOGE")
    desk.qtbot.keyClick(ticket.pair_line, Qt.Key.Key_Return)
    assert ticket.pair_error.isVisible()
    assert ticket.pair_error.text().startswith("Pair: must be one of the listed pairs")
    assert stored_count(desk) == 0


def test_amounts_with_the_desks_own_thousands_separators_are_accepted(desk: Desk) -> None:
    ticket = desk.window.ticket
    ticket.pair_line.setFocus()
    ticket.pair_line.selectAll()
    desk.qtbot.keyClicks(ticket.pair_line, "JUP-USDC")
    desk.qtbot.keyClick(ticket.pair_line, Qt.Key.Key_Return)
    desk.qtbot.keyClicks(ticket.amount, "1,000")
    assert not ticket.amount_error.isVisible()
    assert ticket.submit.text() == "Buy 1,000 JUP"

    desk.qtbot.keyClick(ticket.amount, Qt.Key.Key_Return)
    desk.qtbot.waitUntil(lambda: desk.window.board.model.rowCount() == 1, timeout=5000)
    assert str(desk.window.board.model.order_at(0).amount) == "1000"


@pytest.mark.parametrize("typed", ["abc", "1,00", "-3", "1.2.3"])
def test_the_submit_button_never_echoes_invalid_text(desk: Desk, typed: str) -> None:
    ticket = desk.window.ticket
    desk.qtbot.keyClick(desk.window, Qt.Key.Key_F3)
    desk.qtbot.keyClicks(ticket.amount, typed)
    assert ticket.submit.text() == "Sell SOL"
    assert not ticket.submit.isEnabled()
    assert ticket.amount_error.isVisible()


def test_the_desk_opens_with_focus_in_the_tickets_amount(desk: Desk) -> None:
    assert desk.window.focusWidget() is desk.window.ticket.amount
    desk.qtbot.keyClicks(desk.window.focusWidget(), "25")
    assert desk.window.ticket.amount.text() == "25"
    assert desk.window.board.search.text() == ""


def text_fields(desk: Desk) -> list[QLineEdit]:
    return [desk.window.board.search, desk.window.ticket.amount, desk.window.ticket.pair_line]


@pytest.mark.parametrize("field", [0, 1, 2], ids=["board search", "amount", "pair box"])
def test_export_all_opens_from_every_text_field(desk: Desk, field: int) -> None:
    target = text_fields(desk)[field]
    target.setFocus()
    desk.qtbot.keyClick(target, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    dialog = desk.window.desk_actions.file_dialog
    assert dialog is not None
    assert dialog.isVisible(), "Ctrl+E opened the export dialog"
    assert not dialog.testAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    dialog.reject()


def test_ctrl_e_works_at_launch_without_touching_anything(desk: Desk) -> None:
    focused = desk.window.focusWidget()
    assert isinstance(focused, QLineEdit)
    desk.qtbot.keyClick(focused, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert desk.window.desk_actions.file_dialog is not None
    assert desk.window.desk_actions.file_dialog.isVisible()
    desk.window.desk_actions.file_dialog.reject()


@pytest.mark.parametrize("field", [0, 1, 2], ids=["board search", "amount", "pair box"])
def test_other_menu_shortcuts_work_from_every_text_field(desk: Desk, field: int) -> None:
    window = desk.window
    target = text_fields(desk)[field]
    target.setFocus()
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier

    desk.qtbot.keyClick(target, Qt.Key.Key_A, ctrl_shift)
    assert window.board.active_only.isChecked()
    assert window.active_only_action.isChecked(), "the View menu shows the state"
    desk.qtbot.keyClick(target, Qt.Key.Key_A, ctrl_shift)
    assert not window.active_only_action.isChecked()

    desk.qtbot.keyClick(target, Qt.Key.Key_F3)
    assert window.ticket.side is Direction.SELL

    desk.qtbot.keyClick(target, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    assert window.order_windows.summary_dialog is not None
    assert window.order_windows.summary_dialog.isVisible()
    window.order_windows.summary_dialog.close()

    desk.qtbot.keyClick(target, Qt.Key.Key_B, ctrl_shift)
    assert window.desk_actions.burst_dialog is not None
    assert window.desk_actions.burst_dialog.isVisible()
    window.desk_actions.burst_dialog.reject()


def test_plain_typing_and_clipboard_keys_still_belong_to_the_field(desk: Desk) -> None:
    search = desk.window.board.search
    search.setFocus()
    desk.qtbot.keyClicks(search, "abc")
    desk.qtbot.keyClick(search, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert search.selectedText() == "abc"


def test_active_only_in_the_view_menu_is_checkable_and_follows_the_board(desk: Desk) -> None:
    action = desk.window.active_only_action
    assert action.isCheckable()
    desk.window.board.active_only.setChecked(True)
    assert action.isChecked()
    action.trigger()
    assert not desk.window.board.active_only.isChecked()


@pytest.mark.parametrize(
    ("screen", "expected"),
    [
        (QRect(0, 0, 1366, 768 - 40), QRect(0, 0, 1366, 728)),
        (QRect(0, 0, 1920, 1040), QRect(0, 0, 1920, 1040)),  # the wide layout's docks are sized for it
        (QRect(1920, 0, 1280, 720), QRect(1920, 0, 1280, 720)),
    ],
)
def test_the_first_window_fits_the_available_screen(screen: QRect, expected: QRect) -> None:
    assert fit_to_screen(screen) == expected


def test_the_desk_opens_no_larger_than_the_screen_it_is_on(desk: Desk) -> None:
    """The test screen is 800×800: the window takes its height and shrinks to its narrowest usable width."""
    window = desk.window
    available = window.screen().availableGeometry()
    assert window.height() <= available.height()
    assert window.width() <= max(available.width(), window.minimumSizeHint().width())
    smallest = window.minimumSizeHint()
    assert smallest.width() <= 1366, "usable on a 1366×768 laptop"
    assert smallest.height() <= 728
    assert window.statusBar().isVisible()
    assert window.statusBar().geometry().bottom() <= window.height()
