"""The notice a trader reads without looking for it: a small label over the bottom-left of the window.

Notices used to be status-bar messages, but on a 1366-pixel laptop the status bar's counters (queue,
rate limit, who runs what) leave a message 250 pixels, and "BUY 100 JUP-USDC sent — 88d654b1"
was cut short. Floating just above the status bar, a notice gets the window's width, hides after
a few seconds (or stays, for the quitting countdown) and never covers a counter. It floats over the
board's bottom-left corner, not the window's: the docks' tab bar (Ticket, Account, Fills) sits at the
bottom of the left dock area, and a notice there hid the tabs a trader clicks for eight seconds.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QMainWindow

MARGIN = 8


class NoticeToast(QObject):
    """`show(text)` puts a notice up; `shown` carries every text, for listeners and tests."""

    shown = Signal(str)

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.label = QLabel(window)
        self.label.setObjectName("notice")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.label.hide()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.label.hide)

    @property
    def text(self) -> str:
        """The notice up now ('' when none)."""
        return self.label.text() if self.label.isVisible() else ""

    def show(self, text: str, ms: int = 8000) -> None:
        """Show `text` for `ms` milliseconds; 0 keeps it up until the next notice or `clear()`."""
        self.label.setText(text)
        self.place()
        self.label.show()
        self.label.raise_()
        if ms > 0:
            self._timer.start(ms)
        else:
            self._timer.stop()
        self.shown.emit(text)

    def clear(self) -> None:
        self._timer.stop()
        self.label.hide()

    def place(self) -> None:
        """Over the board's bottom-left corner, above the status bar; shifted left only as far as a long
        notice needs to be read whole, and never wider than the window."""
        window = self._window
        widest = max(100, window.width() - 2 * MARGIN)
        self.label.setMaximumWidth(widest)
        self.label.adjustSize()
        bar = window.statusBar()
        bottom = bar.geometry().top() if bar.isVisible() else window.height()
        central = window.centralWidget()
        left = MARGIN
        if central is not None and central.isVisible():
            area = central.geometry()
            bottom = min(bottom, area.bottom() + 1)
            left = area.left() + MARGIN
        left = max(MARGIN, min(left, window.width() - self.label.width() - MARGIN))
        self.label.move(left, bottom - self.label.height() - MARGIN // 2)
