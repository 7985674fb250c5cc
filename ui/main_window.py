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

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QWidget,
)

from engine.demo import random_requests
from engine.domain import Direction, Order
from engine.engine import Engine
from engine.router import RoutingDecision
from engine.settings import Settings, save_changes
from engine.validation import InvalidOrder, OrderRequest
from ui.account_panel import AccountPanel
from ui.api_link import ApiLink
from ui.blotter import FillsBlotter
from ui.board.gc_policy import freeze_survivors
from ui.board.view import BoardView
from ui.bridge import EngineBridge
from ui.chart import PriceChart
from ui.dialogs.detail import OrderDetail
from ui.dialogs.errors import ErrorReporter
from ui.dialogs.reports import SummaryDialog, export_all, export_visible
from ui.dialogs.settings import SettingsDialog
from ui.mirror_link import MirrorLink, MirrorStarter
from ui.status_bar import DeskStatusBar
from ui.ticket import BUY_SHORTCUT, FOCUS_SHORTCUT, SELL_SHORTCUT, OrderTicket

log = logging.getLogger("dexdesk.desk")

FIRST_PAGE = 1000
# Turning stored rows into orders costs 40-80 µs each on the loop, so older pages are small: each
# blocks the window for a few tens of milliseconds at most, and the loop turns between them.
HISTORY_PAGE = 500
LAYOUT_VERSION = 1


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
        self._quit_confirmed = False
        self.settings_dialog: SettingsDialog | None = None
        self.summary_dialog: SummaryDialog | None = None
        self.setWindowTitle("dexdesk — DEX order desk")
        self.resize(1480, 860)

        self.bridge = EngineBridge(engine, self)
        self.board = BoardView(engine.catalog, self)
        self.setCentralWidget(self.board)
        self.ticket = OrderTicket(engine.catalog, self._indicative_quote, self)
        self.ticket_dock = QDockWidget("Order ticket", self)
        self.ticket_dock.setObjectName("ticketDock")
        self.ticket_dock.setWidget(self.ticket)
        self.ticket_dock.setMinimumWidth(400)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.ticket_dock)
        self._add_trading_docks(engine)
        self.status = DeskStatusBar(engine, self)
        self.setStatusBar(self.status)
        self.mirror = MirrorLink(engine, start_mirror, self)
        self.mirror.state_changed.connect(self.status.show_mirror)
        self.api = ApiLink(engine, lambda: self.mirror.state, self)
        self.api_label = QLabel()
        self.api_label.setToolTip("The HTTP + WebSocket API this desk serves (Settings → Serve the API)")
        self.api_label.hide()
        self.status.addPermanentWidget(self.api_label)
        self.api.state_changed.connect(self._show_api)
        self._build_menus()

        self.bridge.orders_changed.connect(self._on_orders_changed)
        self.board.open_order.connect(self.open_detail)
        self.ticket.submit_requested.connect(self._submit)
        self._default_window_state = self.saveState(LAYOUT_VERSION)

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
        self._action(file_menu, "Export all orders as CSV…", self._ask_export_all, "Ctrl+E", "Every stored order")
        self._action(file_menu, "Export board view as CSV…", self._ask_export_visible, "Ctrl+Shift+E", "Rows shown")
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
        self._action(order_menu, "Burst…", self.ask_burst, "Ctrl+Shift+B", "Submit many random orders at once")

        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.ticket_dock.toggleViewAction())
        for dock in (self.chart_dock, self.account_dock, self.blotter_dock):
            view_menu.addAction(dock.toggleViewAction())
        self._action(view_menu, "Find on board", self._focus_search, "Ctrl+F", "Search id, pair or tx hash")
        self._action(
            view_menu, "Active orders only", self.board.active_only.toggle, "Ctrl+Shift+A", "Hide finished orders"
        )
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

    def _show_api(self, text: str) -> None:
        self.api_label.setText(text)
        self.api_label.setVisible(bool(text))

    # -- tasks ----------------------------------------------------------------------------

    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a coroutine on the loop, keep it alive, and show its exception if it fails."""
        task = asyncio.ensure_future(work)
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
        """Paint the newest orders at once; older pages follow in the background, one small page per loop turn."""
        newest = await self.engine.orders_page(limit=first_page)
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
        while True:
            older = await self.engine.orders_page(limit=page, before_seq=before_seq)
            self.board.model.append_history(older)
            self.chart.apply(older)
            self.blotter.apply(older)
            freeze_survivors()
            if len(older) < page:
                break
            before_seq = older[-1].seq
            await asyncio.sleep(0)  # let the window paint and the engine run between pages
        self.history_loaded.emit()

    # -- widgets → engine -----------------------------------------------------------------

    def _submit(self, request: OrderRequest) -> None:
        self.ticket.set_busy(True)

        async def submit() -> None:
            try:
                await self.engine.submit_many([request])
            except InvalidOrder as refused:  # a shortfall: said next to the button, nothing stored
                self.ticket.show_submit_problem(refused)
            finally:
                self.ticket.set_busy(False)

        self.spawn(submit())

    async def burst(self, count: int, chunk: int = 500) -> list[Order]:
        """Submit random orders in chunks, so a burst of 20,000 never holds the window for long.

        Each chunk is one transaction, stored whole before any of it is queued; between chunks
        the loop paints and the first orders are already running.
        """
        requests = random_requests(self.engine.catalog, count)
        submitted: list[Order] = []
        for start in range(0, len(requests), chunk):
            submitted.extend(await self.engine.submit_many(requests[start : start + chunk]))
        return submitted

    async def _burst_or_say_why(self, count: int) -> None:
        """The Burst action; a chunk the paper account cannot cover is refused whole, and the burst stops there."""
        try:
            await self.burst(count)
        except InvalidOrder as refused:
            self.statusBar().showMessage(
                f"Burst stopped at a chunk the paper account cannot cover ({refused}); Account → Reset… for more", 15000
            )

    def ask_burst(self) -> None:
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Burst")
        dialog.setLabelText("Submit this many random orders at once:")
        dialog.setInputMode(QInputDialog.InputMode.IntInput)
        dialog.setIntRange(1, 100_000)
        dialog.setIntValue(200)
        dialog.intValueSelected.connect(lambda count: self.spawn(self._burst_or_say_why(count)))
        dialog.open()

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
        self.details[order_id] = dialog
        dialog.finished.connect(lambda _result: self.details.pop(order_id, None))
        dialog.show()

        async def fill_in() -> None:
            stored = await self.engine.order(order_id)
            if stored is not None and order_id in self.details:
                dialog.update_order(stored)

        self.spawn(fill_in())
        return dialog

    def open_summary(self) -> None:
        self.summary_dialog = SummaryDialog(self.board.model.orders(), self.engine.catalog, self)
        self.summary_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.summary_dialog.show()

    def _ask_export_all(self) -> None:
        path = self._ask_csv_path("orders.csv")
        if path is not None:
            self.spawn(self._export(export_all(self.engine, path, self), path))

    def _ask_export_visible(self) -> None:
        path = self._ask_csv_path("board.csv")
        if path is not None:
            self.spawn(self._export(export_visible(self.board.proxy.visible_orders(), path, self), path))

    def _ask_csv_path(self, name: str) -> Path | None:
        chosen, _filter = QFileDialog.getSaveFileName(self, "Export CSV", str(Path.home() / name), "CSV (*.csv)")
        return Path(chosen) if chosen else None

    async def export_visible_to(self, path: Path) -> int:
        return await self._export(export_visible(self.board.proxy.visible_orders(), path, self), path)

    async def export_all_to(self, path: Path) -> int:
        return await self._export(export_all(self.engine, path, self), path)

    async def _export(self, work: Coroutine[Any, Any, int], path: Path) -> int:
        rows = await work
        self.statusBar().showMessage(f"Exported {rows:,} orders to {path}", 8000)
        return rows

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
        if not MirrorLink.same_target(self.settings, chosen):
            self.spawn(self.mirror.switch(chosen))
        if chosen.serve_api_port != self.settings.serve_api_port:
            self.spawn(self.api.apply(chosen.serve_api_port))
        path = save_changes(self.settings, chosen)
        self.settings = chosen
        self.status.refresh()
        self.statusBar().showMessage(f"Settings applied and saved to {path}", 6000)
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
        geometry = self.layout_store.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        state = self.layout_store.value("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state, LAYOUT_VERSION)
        self.board.restore_state(self.layout_store)

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

    # -- closing --------------------------------------------------------------------------

    def confirm_quit(self) -> None:
        """Close without asking (the caller has decided); unfinished orders resume on the next start."""
        self._quit_confirmed = True

    def closeEvent(self, event: QCloseEvent) -> None:
        running = self.engine.running_count()  # waiting limit orders stay stored and wait on the next start
        if running and not self._quit_confirmed:
            choice = self._ask_about_running(running)
            if choice == "cancel":
                event.ignore()
                return
            if choice == "wait":
                event.ignore()
                self.statusBar().showMessage(f"Waiting for {running:,} orders to finish, then closing…")
                self.spawn(self._close_when_idle())
                return
        self.save_layout()
        for dialog in list(self.details.values()):
            dialog.close()
        event.accept()
        self.closed.emit()

    def _ask_about_running(self, running: int) -> str:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Orders still running")
        box.setText(f"{running:,} orders are still running.")
        box.setInformativeText(
            "Quit now: orders in flight finish, the rest stay stored and resume on the next start.\n"
            "Wait: the desk closes by itself once every order has finished."
        )
        quit_now = box.addButton("Quit now", QMessageBox.ButtonRole.AcceptRole)
        wait = box.addButton("Wait, then quit", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(wait)
        box.exec()
        clicked = box.clickedButton()
        return "quit" if clicked is quit_now else "wait" if clicked is wait else "cancel"

    async def _close_when_idle(self) -> None:
        await self.engine.wait_running_done()
        self._quit_confirmed = True
        self.close()

    async def shutdown(self) -> None:
        """Stop listening, stop the engine (in-flight attempts finish, queued orders stay stored), then the mirror."""
        self.bridge.close()
        self.account_panel.stop()
        self.chart.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.api.stop()  # no new orders over HTTP while the engine stops
        await self.engine.stop()
        await self.mirror.stop()
