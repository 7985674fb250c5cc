"""The desk's main window: a frame that holds the widgets, not a switchboard that feeds them.

Each widget subscribes itself to the engine's bridge (`follow`, as vn.py's `register_event`);
the flows live with their owners: burst, cancel and export in DeskActions, the detail windows
and the Summary in OrderWindows, Settings in SettingsFlow, the docks and the window's size in
DeskLayout, the start's history in HistoryLoader, the menus in desk_menus. Dialogs are opened
with `open()`, never `exec()`, so no nested event loop ever runs inside an asyncio task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QMoveEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QWidget

from engine.config.settings import Settings
from engine.model.domain import Direction, Order
from engine.model.validation import InvalidOrder, OrderRequest
from engine.runtime.engine import Engine
from engine.trading.router import RoutingDecision
from ui.account_panel import AccountPanel
from ui.api_link import ApiLink
from ui.blotter import FillsBlotter
from ui.board.view import BoardView
from ui.bridge import EngineBridge
from ui.chart import PriceChart
from ui.desk_actions import DeskActions
from ui.desk_layout import PREFERRED_SIZE, DeskLayout, Docks
from ui.desk_menus import build_menus
from ui.dialogs.errors import ErrorReporter
from ui.formatting import PairFormats
from ui.history_loader import FIRST_PAGE, HISTORY_PAGE, HistoryLoader
from ui.mirror_link import MirrorLink, MirrorStarter
from ui.notice_toast import NoticeToast
from ui.notices import NOTICE_MS, OrderNotices
from ui.order_windows import OrderWindows
from ui.quitting import QuitFlow
from ui.settings_flow import SettingsFlow
from ui.shortcuts import MenuShortcutsFirst
from ui.status_bar import DeskStatusBar
from ui.tasks import DeskTasks
from ui.ticket import OrderTicket

TITLE = "dexdesk — DEX order desk"


class MainWindow(QMainWindow):
    closed = Signal()
    history_loaded = Signal()
    cancel_queued_action: QAction  # set by desk_menus
    active_only_action: QAction

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
        self.errors = ErrorReporter(self)
        self.tasks = DeskTasks(self.errors)
        self._quit_confirmed = False
        self._shown_once = False
        self.setWindowTitle(TITLE)
        self.resize(*PREFERRED_SIZE)
        self.bridge = EngineBridge(engine, self)
        self.board = BoardView(engine.catalog, self)
        self.setCentralWidget(self.board)
        self._build_docks(engine)
        self._build_status(engine, start_mirror)
        self._build_flows(engine, settings, layout_file)
        build_menus(self)
        self.shortcuts_first = MenuShortcutsFirst(self)
        self.shortcuts_first.watch(self.findChildren(QAction))
        self.shortcuts_first.install()
        self._subscribe()

    def _build_docks(self, engine: Engine) -> None:
        """The trading docks: ticket, price chart (follows the ticket's pair), account, fills."""
        self.ticket = OrderTicket(engine.catalog, self._indicative_quote, self)
        self.chart = PriceChart(engine, self)
        self.account_panel = AccountPanel(engine, self)
        self.blotter = FillsBlotter(engine.catalog, self, shared=self.board.model)
        left, top = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.TopDockWidgetArea
        self.docks = Docks(
            ticket=self._dock("Order ticket", "ticketDock", self.ticket, left),
            chart=self._dock("Price chart", "chartDock", self.chart, top),
            account=self._dock("Account", "accountDock", self.account_panel, top),
            fills=self._dock("Fills", "fillsDock", self.blotter, top),
        )
        self.ticket_dock = self.docks.ticket
        self.ticket_dock.setMinimumWidth(360)
        self.docks.account.setMinimumWidth(340)
        self.blotter.setMinimumHeight(110)
        self.chart.setMinimumHeight(170)

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)  # arranged side by side by DeskLayout
        return dock

    def _build_status(self, engine: Engine, start_mirror: MirrorStarter | None) -> None:
        self.status = DeskStatusBar(engine, self)
        self.setStatusBar(self.status)
        self.status.storage_alarm.connect(lambda text: self.notify(text, 20_000))
        self.mirror = MirrorLink(engine, start_mirror, self)
        self.mirror.state_changed.connect(self.status.show_mirror)
        self.api = ApiLink(engine, lambda: self.mirror.state, self)
        self.api_label = QLabel()
        self.api_label.setToolTip("The HTTP + WebSocket API this desk serves (Settings → Serve the API)")
        self.api_label.hide()
        self.status.addPermanentWidget(self.api_label)
        self.api.state_changed.connect(self._show_api)
        self.toast = NoticeToast(self)

    def _build_flows(self, engine: Engine, settings: Settings, layout_file: Path) -> None:
        spawn, notify = self.spawn, self.notify
        parts = (self.board, self.ticket, self.status, self.mirror, self.api)
        self.settings_flow = SettingsFlow(settings, engine, parts, spawn=spawn, notify=notify, parent=self)
        self.notices = OrderNotices(
            PairFormats(engine.catalog), lambda: self.settings_flow.settings.desktop_notifications, self
        )
        self.notices.notice.connect(notify)
        self.quitting = QuitFlow(self, engine, show=notify, quit_now=self._quit_after_asking)
        self.desk_actions = DeskActions(
            engine, self.board, self.notices, spawn=spawn, notify=notify, say=self._say, parent=self
        )
        self.order_windows = OrderWindows(engine, self.board, spawn=spawn, notify=notify, parent=self)
        panels = (self.chart, self.blotter, self.account_panel)
        self.history = HistoryLoader(engine, self.board.model, *panels, spawn, self)
        self.desk_layout = DeskLayout(self, self.docks, self.board, layout_file)

    def _subscribe(self) -> None:
        """Each part listens to the engine itself; the frame only introduces them."""
        for part in (self.board, self.notices, self.order_windows, self.ticket, self.blotter, self.account_panel):
            part.follow(self.bridge)
        self.bridge.orders_changed.connect(lambda batch: self.chart.apply(list(batch.values())))
        self.board.open_order.connect(self.order_windows.open_detail)
        self.board.cancel_order.connect(self.desk_actions.cancel_order)
        self.board.notice.connect(self.notify)
        self.history.loaded.connect(self.board.history_loaded)
        self.history.loaded.connect(self.history_loaded)
        # The title says the board is not whole yet (a taskbar shows it; `bench window` waits for it).
        self.history.loading_older.connect(lambda: self.setWindowTitle(f"{TITLE} · loading older orders…"))
        self.history.loaded.connect(lambda: self.setWindowTitle(TITLE))
        self.board.model.context.max_attempts = self.engine.settings.queue.retry.attempts
        self.board.model.context.queue.local_owner = self.engine.owner_id  # other processes' orders wait elsewhere
        self.ticket.submit_requested.connect(self._submit)
        self.ticket.pair.currentTextChanged.connect(self.chart.set_pair)
        self.account_panel.available_changed.connect(self.ticket.set_balances)

    @property
    def settings(self) -> Settings:
        return self.settings_flow.settings

    def _indicative_quote(self, pair: str, amount: Decimal, direction: Direction, slippage: Decimal) -> RoutingDecision:
        return self.engine.indicative_quote(pair, amount, direction, slippage)

    def spawn(self, work: Coroutine[Any, Any, Any], *, finish: bool = False) -> asyncio.Task[Any]:
        """Run a coroutine on the loop (see DeskTasks: `finish` ones are awaited at quit, not cancelled)."""
        return self.tasks.spawn(work, finish=finish)

    async def load_history(self, first_page: int = FIRST_PAGE, page: int = HISTORY_PAGE) -> None:
        await self.history.load(first_page, page)

    async def burst(self, count: int) -> list[Order]:
        """`DeskActions.burst`, kept here for `bench board`, which drives a whole window."""
        return await self.desk_actions.burst(count)

    # -- widgets → engine -----------------------------------------------------------------

    def notify(self, text: str, ms: int = NOTICE_MS) -> None:
        """A transient notice above the status bar's left end; the counters stay in view."""
        self.toast.show(text, ms)

    def _say(self, text: str) -> None:
        """A line that stays in the status bar (what went wrong, and what to do)."""
        self.statusBar().showMessage(text, 15000)

    def _show_api(self, text: str) -> None:
        self.api_label.setText(text)
        self.api_label.setVisible(bool(text))

    def focus_ticket(self) -> None:
        self.ticket_dock.show()
        self.ticket_dock.raise_()
        self.ticket.focus_ticket()

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

    def show_launch_notice(self) -> str | None:
        """Tell how many orders the last session left running and this one took up again."""
        resumed = self.engine.resumed
        if not resumed:
            return None
        text = f"Resumed {resumed:,} unfinished order{'s' if resumed != 1 else ''} from the last session"
        self.notify(text)
        return text

    # -- layout ---------------------------------------------------------------------------

    def restore_layout(self) -> None:
        self.desk_layout.restore(self.screen().availableGeometry())

    def restore_default_layout(self) -> None:
        self.desk_layout.restore_default(self.screen().availableGeometry())

    def save_layout(self) -> None:
        self.desk_layout.save()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.toast.place()
        if self._shown_once:
            self.desk_layout.keeper.changed()

    def moveEvent(self, event: QMoveEvent) -> None:
        super().moveEvent(event)
        if self._shown_once:
            self.desk_layout.keeper.changed()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.desk_layout.cap_to(self.screen())
        QTimer.singleShot(0, self.desk_layout.shown)  # docks arranged while hidden: sized once laid out
        if not self._shown_once:
            self._shown_once = True
            handle = self.windowHandle()
            if handle is not None:
                handle.screenChanged.connect(self.desk_layout.cap_to)
            self.ticket.focus_ticket()  # the first keys a trader types are an amount, not a search

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
        self.desk_layout.save()
        self.order_windows.close_all()
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
        await self.tasks.stop()
        await self.api.stop()  # no new orders over HTTP while the engine stops
        await self.engine.stop()
        await self.mirror.stop()
