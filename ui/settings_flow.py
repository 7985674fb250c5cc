"""Settings → OK: queue and router numbers go to the running engine, the mirror moves to the new
Redis, the API starts or stops, the theme and the ticket's warning change; all is saved.

Only the database URL waits for the next start (said in a dialog). The focus goes back to the
ticket afterwards: a trader changed a setting to trade, not to search the board.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from engine.config.settings import Settings, save_changes
from engine.runtime.engine import Engine
from ui.api_link import ApiLink
from ui.board.view import BoardView
from ui.dialogs.settings import SettingsDialog
from ui.mirror_link import MirrorLink
from ui.status_bar import DeskStatusBar
from ui.theme import apply_theme
from ui.ticket import OrderTicket


class SettingsFlow(QObject):
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        parts: tuple[BoardView, OrderTicket, DeskStatusBar, MirrorLink, ApiLink],
        *,
        spawn: Callable[[Coroutine[Any, Any, Any]], object],
        notify: Callable[[str, int], None],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.engine = engine
        self.board, self.ticket, self.status, self.mirror, self.api = parts
        self.spawn, self.notify, self.window = spawn, notify, parent
        self.dialog: SettingsDialog | None = None
        self.ticket.limit_warning_pct = settings.limit_warning_pct

    def open(self) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.apply(dialog.result_settings, dialog.needs_restart))
        self.dialog = dialog
        dialog.open()
        return dialog

    def apply(self, chosen: Settings | None, needs_restart: bool) -> None:
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
        self.ticket.focus_ticket()
        if needs_restart:
            notice = QMessageBox(
                QMessageBox.Icon.Information,
                "Restart needed",
                "Saved. The new database URL is used from the next start of dexdesk.",
                QMessageBox.StandardButton.Ok,
                self.window,
            )
            notice.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            notice.open()
