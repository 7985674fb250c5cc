"""Menu shortcuts that work from every field of the window, including the text fields.

A focused QLineEdit claims key sequences it has a use for (Ctrl+E is "end of line" on X11) by
accepting the ShortcutOverride event, so the menu's Ctrl+E never fires while a field has focus —
which is the state the desk starts in. This filter answers ShortcutOverride for the window's own
menu shortcuts before the field sees it, leaving every other key (typing, Ctrl+C/V/Z, arrows) to
the field.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QWidget


class MenuShortcutsFirst(QObject):
    """Installed on the application; acts only for focus widgets inside `window`."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._sequences: set[str] = set()

    def watch(self, actions: list[QAction]) -> None:
        self._sequences = {
            sequence.toString(QKeySequence.SequenceFormat.PortableText)
            for action in actions
            for sequence in action.shortcuts()
            if not sequence.isEmpty()
        }

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.ShortcutOverride or not isinstance(event, QKeyEvent):
            return False
        if not isinstance(watched, QWidget) or watched.window() is not self._window:
            return False
        pressed = QKeySequence(event.keyCombination()).toString(QKeySequence.SequenceFormat.PortableText)
        # Eaten and not accepted: the field does not claim the key, so the shortcut map runs the action.
        return pressed in self._sequences

    def install(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def uninstall(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
