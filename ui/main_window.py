"""The desk's main window: composition, menus, layout persistence, and the engine commands users give.

It wires small widgets together and owns no trading logic: the ticket validates, the engine
decides, the board shows. Dialogs are opened with `open()`, never `exec()`, so no nested event
loop ever runs inside an asyncio task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QRect, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QMoveEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QWidget,
)

from engine.domain import Direction, Order
from engine.engine import Engine
from engine.router import RoutingDecision
from engine.settings import Settings, save_changes
from engine.validation import InvalidOrder, OrderRequest
from ui.account_panel import AccountPanel
from ui.api_link import ApiLink
from ui.blotter import FillsBlotter
from ui.board.gc_policy import freeze_survivors
from ui.board.keys import PreparedKeys
from ui.board.model import BoardModel
from ui.board.view import BoardView
from ui.bridge import EngineBridge
from ui.chart import PriceChart
from ui.desk_actions import DeskActions
from ui.dialogs.detail import OrderDetail
from ui.dialogs.errors import ErrorReporter
from ui.dialogs.settings import SettingsDialog
from ui.dialogs.summary import SummaryDialog
from ui.formatting import PairFormats
from ui.layout_keeper import LayoutKeeper
from ui.mirror_link import MirrorLink, MirrorStarter
from ui.notice_toast import NoticeToast
from ui.notices import NOTICE_MS, OrderNotices
from ui.quitting import QuitFlow
from ui.shortcuts import MenuShortcutsFirst
from ui.status_bar import DeskStatusBar
from ui.theme import apply_theme
from ui.ticket import BUY_SHORTCUT, FOCUS_SHORTCUT, SELL_SHORTCUT, OrderTicket

log = logging.getLogger("dexdesk.desk")

FIRST_PAGE = 1000
# Older pages are large: the storage turns their rows into orders in a worker thread, and only the
# insert into the board (a few milliseconds per thousand rows) runs on the loop.
HISTORY_PAGE = 10_000
HISTORY_SLICE = 2_000  # rows the board and the chart take per loop turn (~5 µs each on a quiet machine)
LAYOUT_VERSION = 1
PREFERRED_SIZE = (1480, 860)


def _prepared_slices(page: list[Order]) -> list[PreparedKeys]:
    """A history page cut into the slices the board inserts one per loop turn, keys made (in a worker thread)."""
    return [BoardModel.prepare(page[at : at + HISTORY_SLICE]) for at in range(0, len(page), HISTORY_SLICE)]


def fit_to_screen(available: QRect, preferred: tuple[int, int] = PREFERRED_SIZE) -> QRect:
    """The first-launch window: the preferred size, shrunk to the screen's free area (a 1366×768 laptop
    keeps its status bar in view), centred on it."""
    width = min(preferred[0], available.width())
    height = min(preferred[1], available.height())
    left = available.x() + (available.width() - width) // 2
    top = available.y() + (available.height() - height) // 2
    return QRect(left, top, width, height)


class MainWindow(QMainWindow):
    closed = Signal()
    history_loaded = Signal()

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        layout_file: Path,
        start_mirror: MirrorStarter | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.settings = settings
        self.layout_store = QSettings(str(layout_file), QSettings.Format.IniFormat)
        self.errors = ErrorReporter(self)
        self.details: dict[str, OrderDetail] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._finishing: set[asyncio.Task[Any]] = set()  # orders being stored: quitting waits for them
        self._quit_confirmed = False
        self._shown_once = False
        self.settings_dialog: SettingsDialog | None = None
        self.summary_dialog: SummaryDialog | None = None
        self.setWindowTitle("dexdesk — DEX order desk")
        self.resize(*PREFERRED_SIZE)

        self.bridge = EngineBridge(engine, self)
        self.board = BoardView(engine.catalog, self)
        self.setCentralWidget(self.board)
        self.ticket = OrderTicket(engine.catalog, self._indicative_quote, self)
        self.ticket.limit_warning_pct = settings.limit_warning_pct
        self.ticket_dock = QDockWidget("Order ticket", self)
        self.ticket_dock.setObjectName("ticketDock")
        self.ticket_dock.setWidget(self.ticket)
        self.ticket_dock.setMinimumWidth(400)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.ticket_dock)
        self._add_trading_docks(engine)
        self.status = DeskStatusBar(engine, self)
        self.setStatusBar(self.status)
        self.status.storage_alarm.connect(lambda text: self.notify(text, 20_000))
        self.mirror = MirrorLink(engine, start_mirror, self)
        self.mirror.state_changed.connect(self.status.show_mirror)
        self.notices = OrderNotices(PairFormats(engine.catalog), lambda: self.settings.desktop_notifications, self)
        self.notices.notice.connect(self.notify)
        self.toast = NoticeToast(self)
        self.quitting = QuitFlow(self, engine, show=self.notify, quit_now=self._quit_after_asking)
        self.shortcuts_first = MenuShortcutsFirst(self)
        self.api = ApiLink(engine, lambda: self.mirror.state, self)
        self.api_label = QLabel()
        self.api_label.setToolTip("The HTTP + WebSocket API this desk serves (Settings → Serve the API)")
        self.api_label.hide()
        self.status.addPermanentWidget(self.api_label)
        self.api.state_changed.connect(self._show_api)
        self.desk_actions = DeskActions(
            engine, self.board, self.notices, spawn=self.spawn, notify=self.notify, say=self._say, parent=self
        )
        self._build_menus()
        self.shortcuts_first.watch(self.findChildren(QAction))
        self.shortcuts_first.install()

        self.bridge.orders_changed.connect(self._on_orders_changed)
        self.board.open_order.connect(self.open_detail)
        self.board.cancel_order.connect(self.desk_actions.cancel_order)
        self.board.notice.connect(self.notify)
        self.history_loaded.connect(self.board.history_loaded)
        self.board.model.context.max_attempts = engine.settings.queue.retry.attempts
        self.board.model.context.queue.local_owner = engine.owner_id  # other processes' orders wait elsewhere
        self.ticket.submit_requested.connect(self._submit)
        self._default_window_state = self.saveState(LAYOUT_VERSION)
        self.layout_keeper = LayoutKeeper(self.save_layout, self)
        self.layout_keeper.watch_header(self.board.table.horizontalHeader())
        self.layout_keeper.watch_dock(self.ticket_dock)
        self.layout_keeper.watch_controls(self.board)

    def _add_trading_docks(self, engine: Engine) -> None:
        """The simulator's docks: price chart (follows the ticket's pair), account, fills blotter."""
        self.chart = PriceChart(engine, self)
        self.chart_dock = self._dock("Price chart", "chartDock", self.chart, Qt.DockWidgetArea.TopDockWidgetArea)
        self.account_panel = AccountPanel(engine, self)
        self.account_dock = self._dock(
            "Account", "accountDock", self.account_panel, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.blotter = FillsBlotter(engine.catalog, self)
        self.blotter_dock = self._dock("Fills", "fillsDock", self.blotter, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.account_dock.setMinimumWidth(470)
        self.blotter.setMinimumHeight(130)
        self.chart.setMinimumHeight(240)
        self.ticket.pair.currentTextChanged.connect(self.chart.set_pair)
        self.account_panel.available_changed.connect(self.ticket.set_balances)

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    # -- menus ----------------------------------------------------------------------------

    def _action(
        self, menu: QMenu, text: str, slot: Callable[[], object], shortcut: str | None = None, tip: str | None = None
    ) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(f"{tip} ({shortcut})" if shortcut else tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(
            file_menu, "Export all orders as CSV…", self.desk_actions.ask_export_all, "Ctrl+E", "Every stored order"
        )
        self._action(
            file_menu, "Export board view as CSV…", self.desk_actions.ask_export_visible, "Ctrl+Shift+E", "Rows shown"
        )
        self._action(file_menu, "Summary…", self.open_summary, "Ctrl+I", "Per pair and per venue")
        file_menu.addSeparator()
        self._action(file_menu, "Settings…", self.open_settings, "Ctrl+,", "Queue, router and storage settings")
        file_menu.addSeparator()
        self._action(file_menu, "Quit", self.close, "Ctrl+Q")

        order_menu = bar.addMenu("&Order")
        self._action(order_menu, "Buy side", lambda: self.ticket.set_side(Direction.BUY), BUY_SHORTCUT, "Ticket: BUY")
        self._action(
            order_menu, "Sell side", lambda: self.ticket.set_side(Direction.SELL), SELL_SHORTCUT, "Ticket: SELL"
        )
        self._action(order_menu, "Focus ticket", self._focus_ticket, FOCUS_SHORTCUT, "Jump to the amount field")
        submit = self._action(order_menu, "Submit ticket\tEnter", self.ticket.try_submit, None, "Enter in the ticket")
        submit.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        order_menu.addSeparator()
        self._action(order_menu, "Open selected order", self._open_selected, "Ctrl+O", "Timeline of the order")
        self._action(
            order_menu, "Burst…", self.desk_actions.ask_burst, "Ctrl+Shift+B", "Submit many random orders at once"
        )
        order_menu.addSeparator()
        self.cancel_queued_action = self._action(
            order_menu,
            "Cancel all queued",
            self.desk_actions.cancel_all_queued,
            "Ctrl+Shift+X",
            "Cancel every order of this desk that has not started its swap (queued or backing off)",
        )

        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.ticket_dock.toggleViewAction())
        for dock in (self.chart_dock, self.account_dock, self.blotter_dock):
            view_menu.addAction(dock.toggleViewAction())
        self._action(view_menu, "Find on board", self._focus_search, "Ctrl+F", "Search id, pair or tx hash")
        self.active_only_action = self._action(
            view_menu, "Active orders only", lambda: None, "Ctrl+Shift+A", "Hide finished orders"
        )
        self.active_only_action.setCheckable(True)
        self.active_only_action.setChecked(self.board.active_only.isChecked())
        self.active_only_action.toggled.connect(self.board.active_only.setChecked)
        self.board.active_only.toggled.connect(self.active_only_action.setChecked)
        view_menu.addSeparator()
        self._action(view_menu, "Restore default layout", self.restore_default_layout, None, "Columns, docks, filters")

    def _focus_ticket(self) -> None:
        self.ticket_dock.show()
        self.ticket_dock.raise_()
        self.ticket.focus_ticket()

    def _focus_search(self) -> None:
        self.board.search.setFocus()
        self.board.search.selectAll()

    def _open_selected(self) -> None:
        order_id = self.board.selected_order_id()
        if order_id:
            self.open_detail(order_id)

    async def burst(self, count: int) -> list[Order]:
        """`DeskActions.burst`, kept here for `bench board`, which drives a whole window."""
        return await self.desk_actions.burst(count)

    def _say(self, text: str) -> None:
        """A line that stays in the status bar (what went wrong, and what to do)."""
        self.statusBar().showMessage(text, 15000)

    def _show_api(self, text: str) -> None:
        self.api_label.setText(text)
        self.api_label.setVisible(bool(text))

    # -- tasks ----------------------------------------------------------------------------

    def spawn(self, work: Coroutine[Any, Any, Any], *, finish: bool = False) -> asyncio.Task[Any]:
        """Run a coroutine on the loop, keep it alive, and show its exception if it fails.

        `finish`: closing the desk waits for it instead of cancelling it. An order being stored is
        one transaction; cancelled half-way it left its connection inside BEGIN, and the engine's
        stop then waited on "database is locked" for good (a limit sent just before Quit)."""
        task = asyncio.ensure_future(work)
        if finish:
            self._finishing.add(task)
            task.add_done_callback(self._finishing.discard)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self.errors.excepthook(type(error), error, error.__traceback__)

    # -- engine → widgets -----------------------------------------------------------------

    def _on_orders_changed(self, batch: dict[str, Order]) -> None:
        self.board.model.apply(batch)
        self.notices.seen(batch)
        if self.summary_dialog is not None:
            self.summary_dialog.orders_changed()
        self.ticket.refresh_quote()
        orders = list(batch.values())
        self.chart.apply(orders)
        self.blotter.apply(orders)
        self.account_panel.orders_changed()
        for order_id, dialog in list(self.details.items()):
            snapshot = batch.get(order_id)
            if snapshot is not None:
                dialog.update_order(snapshot)

    def _indicative_quote(self, pair: str, amount: Decimal, direction: Direction, slippage: Decimal) -> RoutingDecision:
        return self.engine.indicative_quote(pair, amount, direction, slippage)

    async def load_history(self, first_page: int = FIRST_PAGE, page: int = HISTORY_PAGE) -> None:
        """Paint the newest orders at once; older pages follow in the background, in slices that keep the loop free."""
        # What the desk made at start (modules, widgets) lives as long as it does: out of the
        # collector's way now, or the first full collection walks all of it (262 ms, on the loop).
        freeze_survivors()
        newest = await self.engine.history_page(limit=first_page)
        self.board.model.append_history(newest)
        self.chart.apply(self.engine.limits.waiting())  # listed orders carry no terms; the book's do
        self.account_panel.refresh()
        self.chart.apply(newest)
        self.blotter.apply(newest)
        freeze_survivors()
        if len(newest) < first_page:
            self.history_loaded.emit()
            return
        self.spawn(self._load_older(newest[-1].seq, page))

    async def _load_older(self, before_seq: int, page: int) -> None:
        model = self.board.model
        while True:
            # Read, snapshots and the board's sort keys all in worker threads; the loop only inserts,
            # a slice per turn (a whole page of 10,000 held it ~25-60 ms at a time).
            older = await self.engine.history_page(limit=page, before_seq=before_seq)
            slices = await asyncio.to_thread(_prepared_slices, older)
            drawn = False
            for prepared in slices:
                model.append_history(prepared)
                # The chart's fills per slice too (~6-17 µs a row), drawn once per page: a whole
                # page held the loop 280-340 ms under load, its redraw ~40-90 ms more.
                drawn = self.chart.model.apply(prepared.orders) or drawn
                await asyncio.sleep(0)
            if drawn:
                self.chart.redraw()
            self.blotter.apply(older)
            freeze_survivors()
            if len(older) < page:
                break
            before_seq = older[-1].seq
            await asyncio.sleep(0)  # let the window paint and the engine run between pages
        self.history_loaded.emit()

    # -- widgets → engine -----------------------------------------------------------------

    def notify(self, text: str, ms: int = NOTICE_MS) -> None:
        """A transient notice above the status bar's left end; the counters stay in view."""
        self.toast.show(text, ms)

    def _submit(self, request: OrderRequest) -> None:
        self.ticket.set_busy(True)

        async def submit() -> None:
            try:
                stored = await self.engine.submit_many([request])
            except InvalidOrder as refused:  # a shortfall: said next to the button, nothing stored
                self.ticket.show_submit_problem(refused)
                stored = []
            finally:
                self.ticket.set_busy(False)
            for order in stored:
                self.notices.sent(order)

        self.spawn(submit(), finish=True)

    # -- detail, reports, settings --------------------------------------------------------

    def open_detail(self, order_id: str) -> OrderDetail | None:
        existing = self.details.get(order_id)
        if existing is not None:
            existing.raise_()
            existing.activateWindow()
            return existing
        snapshot = self.board.model.get(order_id)
        if snapshot is None:
            return None
        dialog = OrderDetail(snapshot, self.engine.catalog, self)
        dialog.cancel_requested.connect(self._cancel_from_detail)
        self.details[order_id] = dialog
        dialog.finished.connect(lambda _result: self.details.pop(order_id, None))
        dialog.show()

        async def fill_in() -> None:
            stored = await self.engine.order(order_id)
            if stored is not None and order_id in self.details:
                dialog.update_order(stored)

        self.spawn(fill_in())
        return dialog

    def _cancel_from_detail(self, order_id: str) -> None:
        async def cancel() -> None:
            result = await self.engine.cancel(order_id)
            dialog = self.details.get(order_id)
            if dialog is not None:
                dialog.show_cancel_result(result.outcome, result.reason)
                stored = await self.engine.order(order_id)  # the whole log, with its cancelled entry
                if stored is not None and order_id in self.details:
                    dialog.update_order(stored)
            said = "cancelled" if result.outcome == "cancelled" else f"not cancelled: {result.reason}"
            self.notify(f"Order {order_id[:8]} {said}")

        self.spawn(cancel())

    def open_summary(self) -> SummaryDialog:
        if self.summary_dialog is not None:
            self.summary_dialog.raise_()
            self.summary_dialog.activateWindow()
            return self.summary_dialog
        dialog = SummaryDialog(self.engine, self.spawn, self.board_filter_words, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda: setattr(self, "summary_dialog", None))
        self.summary_dialog = dialog
        dialog.show()
        return dialog

    def board_filter_words(self) -> str | None:
        """What the board's filter hides, in words, or None when it shows every order."""
        shown, total = self.board.model.rowCount(), self.board.model.total
        return f"the board shows {shown:,} of {total:,}" if shown != total else None

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.apply_settings(dialog.result_settings, dialog.needs_restart))
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def apply_settings(self, chosen: Settings | None, needs_restart: bool) -> None:
        """Queue and router numbers go to the running engine, the mirror moves to the new Redis; all is saved."""
        if chosen is None:
            return
        self.engine.reconfigure(chosen.engine(self.engine.seed))
        self.ticket.limit_warning_pct = chosen.limit_warning_pct
        self.board.model.context.max_attempts = self.engine.settings.queue.retry.attempts
        if not MirrorLink.same_target(self.settings, chosen):
            self.spawn(self.mirror.switch(chosen))
        if chosen.serve_api_port != self.settings.serve_api_port:
            self.spawn(self.api.apply(chosen.serve_api_port))
        path = save_changes(self.settings, chosen)
        if chosen.theme != self.settings.theme:
            app = QApplication.instance()
            if isinstance(app, QApplication):
                apply_theme(app, chosen.theme)
        self.settings = chosen
        self.status.refresh()
        self.notify(f"Settings applied and saved to {path}", 6000)
        self.ticket.focus_ticket()  # back to trading, not to the board's search
        if needs_restart:
            notice = QMessageBox(
                QMessageBox.Icon.Information,
                "Restart needed",
                "Saved. The new database URL is used from the next start of dexdesk.",
                QMessageBox.StandardButton.Ok,
                self,
            )
            notice.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            notice.open()

    # -- layout ---------------------------------------------------------------------------

    def restore_layout(self) -> None:
        with self.layout_keeper.paused():
            geometry = self.layout_store.value("window/geometry")
            available = self.screen().availableGeometry()
            state = self.layout_store.value("window/state")
            if isinstance(state, QByteArray) and not state.isEmpty():
                self.restoreState(state, LAYOUT_VERSION)
            else:
                self._fit_docks_to(available)
            if isinstance(geometry, QByteArray) and not geometry.isEmpty():
                self.restoreGeometry(geometry)
                if not available.contains(self.frameGeometry()):
                    self.setGeometry(fit_to_screen(available, (self.width(), self.height())))
            else:
                self.setGeometry(fit_to_screen(available))
            self.board.restore_state(self.layout_store)

    def _fit_docks_to(self, available: QRect) -> None:
        """First launch on a small screen (a 1366×768 laptop): when the docks side by side need more
        room than the screen has, they become tabs beside the ticket, which stays in front."""
        needed = self.minimumSizeHint()
        if needed.width() <= available.width() and needed.height() <= available.height():
            return
        for dock in self.findChildren(QDockWidget):
            if dock is self.ticket_dock or dock.isFloating():
                continue
            self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
            self.tabifyDockWidget(self.ticket_dock, dock)
        self.ticket_dock.raise_()
        self.resizeDocks([self.ticket_dock], [self.ticket_dock.minimumSizeHint().width()], Qt.Orientation.Horizontal)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.toast.place()
        if self._shown_once:
            self.layout_keeper.changed()

    def moveEvent(self, event: QMoveEvent) -> None:
        super().moveEvent(event)
        if self._shown_once:
            self.layout_keeper.changed()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            # The first keys a trader types are an amount, not a search.
            self.ticket.focus_ticket()

    def show_launch_notice(self) -> str | None:
        """Tell how many orders the last session left running and this one took up again."""
        resumed = self.engine.resumed
        if not resumed:
            return None
        text = f"Resumed {resumed:,} unfinished order{'s' if resumed != 1 else ''} from the last session"
        self.notify(text)
        return text

    def save_layout(self) -> None:
        self.layout_store.setValue("window/geometry", self.saveGeometry())
        self.layout_store.setValue("window/state", self.saveState(LAYOUT_VERSION))
        self.board.save_state(self.layout_store)
        self.layout_store.sync()

    def restore_default_layout(self) -> None:
        self.restoreState(self._default_window_state, LAYOUT_VERSION)
        self.ticket_dock.show()
        for dock in (self.chart_dock, self.account_dock, self.blotter_dock):
            dock.show()
        self.board.restore_default_layout()
        self.layout_keeper.save_now()

    # -- closing --------------------------------------------------------------------------

    def confirm_quit(self) -> None:
        """Close without asking (the caller has decided); unfinished orders resume on the next start."""
        self._quit_confirmed = True

    def closeEvent(self, event: QCloseEvent) -> None:
        running = self.engine.running_count()  # waiting limit orders stay stored and wait on the next start
        if running and not self._quit_confirmed:
            # Asked with open(): the answer arrives as a signal, and closing is tried again then.
            event.ignore()
            self.quitting.ask(running)
            return
        self.quitting.stop_waiting()
        self.save_layout()
        for dialog in list(self.details.values()):
            dialog.close()
        if self.summary_dialog is not None:
            self.summary_dialog.close()
        self.shortcuts_first.uninstall()
        self.status.stop()
        self.notices.close()
        event.accept()
        self.closed.emit()

    def _quit_after_asking(self) -> None:
        self._quit_confirmed = True
        self.close()

    async def shutdown(self) -> None:
        """Stop listening, stop the engine (in-flight attempts finish, queued orders stay stored), then the mirror."""
        self.bridge.close()
        self.account_panel.stop()
        self.chart.stop()
        await asyncio.gather(*self._finishing, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.api.stop()  # no new orders over HTTP while the engine stops
        await self.engine.stop()
        await self.mirror.stop()
