"""The desk's menus: every command a trader has, with its key, in one place.

Menu items call the objects that own the flows (the ticket, DeskActions, the order windows,
the settings flow, the layout); the window only hosts the bar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from engine.model.domain import Direction
from ui.ticket import BUY_SHORTCUT, FOCUS_SHORTCUT, SELL_SHORTCUT

if TYPE_CHECKING:
    from ui.main_window import MainWindow


def _action(
    menu: QMenu, text: str, slot: Callable[[], object], shortcut: str | None = None, tip: str | None = None
) -> QAction:
    action = QAction(text, menu)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(f"{tip} ({shortcut})" if shortcut else tip)
    action.triggered.connect(slot)
    menu.addAction(action)
    return action


def build_menus(window: MainWindow) -> None:
    bar = window.menuBar()
    _file_menu(window, bar.addMenu("&File"))
    _order_menu(window, bar.addMenu("&Order"))
    _view_menu(window, bar.addMenu("&View"))


def _file_menu(window: MainWindow, menu: QMenu) -> None:
    actions = window.desk_actions
    _action(menu, "Export all orders as CSV…", actions.ask_export_all, "Ctrl+E", "Every stored order")
    _action(menu, "Export board view as CSV…", actions.ask_export_visible, "Ctrl+Shift+E", "Rows shown")
    _action(menu, "Summary…", window.order_windows.open_summary, "Ctrl+I", "Per pair and per venue")
    menu.addSeparator()
    _action(menu, "Settings…", window.settings_flow.open, "Ctrl+,", "Queue, router and storage settings")
    menu.addSeparator()
    _action(menu, "Quit", window.close, "Ctrl+Q")


def _order_menu(window: MainWindow, menu: QMenu) -> None:
    ticket = window.ticket
    _action(menu, "Buy side", lambda: ticket.set_side(Direction.BUY), BUY_SHORTCUT, "Ticket: BUY")
    _action(menu, "Sell side", lambda: ticket.set_side(Direction.SELL), SELL_SHORTCUT, "Ticket: SELL")
    _action(menu, "Focus ticket", window.focus_ticket, FOCUS_SHORTCUT, "Jump to the amount field")
    submit = _action(menu, "Submit ticket\tEnter", ticket.try_submit, None, "Enter in the ticket")
    submit.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
    menu.addSeparator()
    _action(menu, "Open selected order", window.order_windows.open_selected, "Ctrl+O", "Timeline of the order")
    _action(menu, "Burst…", window.desk_actions.ask_burst, "Ctrl+Shift+B", "Submit many random orders at once")
    menu.addSeparator()
    window.cancel_queued_action = _action(
        menu,
        "Cancel all queued",
        window.desk_actions.cancel_all_queued,
        "Ctrl+Shift+X",
        "Cancel every order of this desk that has not started its swap (queued or backing off)",
    )


def _view_menu(window: MainWindow, menu: QMenu) -> None:
    for dock in window.docks.all():
        menu.addAction(dock.toggleViewAction())
    board = window.board
    _action(menu, "Find on board", board.focus_search, "Ctrl+F", "Search id, pair or tx hash")
    only = _action(menu, "Active orders only", lambda: None, "Ctrl+Shift+A", "Hide finished orders")
    only.setCheckable(True)
    only.setChecked(board.active_only.isChecked())
    only.toggled.connect(board.active_only.setChecked)
    board.active_only.toggled.connect(only.setChecked)
    window.active_only_action = only
    menu.addSeparator()
    _action(menu, "Restore default layout", window.restore_default_layout, None, "Docks side by side, columns, filters")
