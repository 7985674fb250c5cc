"""The window's layout and the board's filters are saved when they change, not only on a clean close.

A crash, a kill or a power cut then loses at most the last second of arranging. Changes are
gathered for a second (dragging a column fires hundreds of resize signals) and written in one go.
The keeper listens to what the user can change: the window's size and place, the docks, the
board's header (widths, order, hidden columns, sort) and every filter control on the board.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractButton, QComboBox, QDockWidget, QHeaderView, QLineEdit, QWidget

SAVE_PAUSE_MS = 1000


class LayoutKeeper(QObject):
    def __init__(
        self, save: Callable[[], None], parent: QObject | None = None, *, pause_ms: int = SAVE_PAUSE_MS
    ) -> None:
        super().__init__(parent)
        self._save = save
        self._paused = 0
        self.saves = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(pause_ms)
        self._timer.timeout.connect(self.save_now)

    def changed(self, *_args: object) -> None:
        if not self._paused:
            self._timer.start()

    @property
    def pending(self) -> bool:
        return self._timer.isActive()

    def save_now(self) -> None:
        self._timer.stop()
        self._save()
        self.saves += 1

    def paused(self) -> _Pause:
        """While restoring a saved layout, its own changes are not news to save."""
        return _Pause(self)

    def watch_header(self, header: QHeaderView) -> None:
        header.sectionResized.connect(self.changed)
        header.sectionMoved.connect(self.changed)
        header.sortIndicatorChanged.connect(self.changed)

    def watch_dock(self, dock: QDockWidget) -> None:
        dock.dockLocationChanged.connect(self.changed)
        dock.topLevelChanged.connect(self.changed)
        dock.visibilityChanged.connect(self.changed)

    def watch_controls(self, area: QWidget) -> None:
        """Every filter control under `area`: text fields, drop-downs, check boxes and checkable actions."""
        for line in area.findChildren(QLineEdit):
            if not isinstance(line.parent(), QComboBox):
                line.textChanged.connect(self.changed)
        for combo in area.findChildren(QComboBox):
            combo.currentIndexChanged.connect(self.changed)
        for button in area.findChildren(QAbstractButton):
            if button.isCheckable():
                button.toggled.connect(self.changed)
        for action in area.findChildren(QAction):
            if action.isCheckable():
                action.toggled.connect(self.changed)


class _Pause:
    def __init__(self, keeper: LayoutKeeper) -> None:
        self.keeper = keeper

    def __enter__(self) -> None:
        self.keeper._paused += 1

    def __exit__(self, *_exc: object) -> None:
        self.keeper._paused -= 1
