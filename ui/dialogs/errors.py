"""Errors never vanish: an exception in a slot or an asyncio task is logged and shown with a Copy button.

Both routes end in one non-modal dialog that collects further errors instead of stacking a
dialog per error, so a failing timer cannot bury the desk under windows. The app keeps running.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from ui.theme import monospace_font

log = logging.getLogger("dexdesk.desk")


class ErrorDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Something went wrong")
        self.resize(760, 420)
        self.summary = QLabel("The desk keeps running. Details below; Copy puts them on the clipboard for a report.")
        self.summary.setWordWrap(True)
        self.details = QPlainTextEdit(readOnly=True)
        self.details.setFont(monospace_font())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton("Copy")
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.details.toPlainText()))
        buttons.rejected.connect(self.hide)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.details)
        layout.addWidget(buttons)
        self.count = 0

    def add(self, title: str, text: str) -> None:
        self.count += 1
        separator = "\n" + "─" * 72 + "\n" if self.details.toPlainText() else ""
        self.details.appendPlainText(f"{separator}{title}\n{text}")
        self.setWindowTitle(f"Something went wrong ({self.count})" if self.count > 1 else "Something went wrong")
        self.show()
        self.raise_()


class ErrorReporter:
    """Installs itself as `sys.excepthook` and as the asyncio loop's exception handler."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self._parent = parent
        self._dialog: ErrorDialog | None = None
        self._previous_hook: Callable[..., Any] | None = None
        self.reported: list[str] = []

    @property
    def dialog(self) -> ErrorDialog:
        if self._dialog is None:
            self._dialog = ErrorDialog(self._parent)
        return self._dialog

    def install(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._previous_hook = sys.excepthook
        sys.excepthook = self.excepthook
        if loop is not None:
            loop.set_exception_handler(self.loop_exception)

    def uninstall(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        if self._previous_hook is not None and sys.excepthook == self.excepthook:
            sys.excepthook = self._previous_hook
        if loop is not None:
            loop.set_exception_handler(None)

    def excepthook(self, kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            if self._previous_hook is not None:
                self._previous_hook(kind, error, trace)
            return
        text = "".join(traceback.format_exception(kind, error, trace))
        self.report(f"{kind.__name__}: {error}", text)

    def loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        message = str(context.get("message", "asyncio error"))
        if isinstance(error, BaseException):
            text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
            self.report(f"{message}: {type(error).__name__}: {error}", text)
        else:
            self.report(message, repr(context))

    def report(self, title: str, text: str) -> None:
        log.error("%s\n%s", title, text)
        self.reported.append(title)
        try:
            self.dialog.add(title, text)
        except Exception:  # the dialog itself failing must not recurse into this hook
            log.exception("could not show the error dialog")
