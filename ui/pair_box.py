"""The ticket's pair box: type to search the listed pairs, Enter picks one and moves on to Amount.

Typing re-validates the ticket only once the text names a listed pair (or the box is left): a
half-typed "JU" shows no error and moves nothing on the form. Enter never submits: a trader picking
a pair has not seen its quote yet.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QCompleter, QLineEdit, QPushButton

from engine.trading.pairs import PairCatalog

ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class PairBox(QObject):
    def __init__(
        self,
        combo: QComboBox,
        catalog: PairCatalog,
        submit: QPushButton,
        *,
        changed: Callable[[bool], None],
        chosen: Callable[[], None],
    ) -> None:
        super().__init__(combo)
        self.combo, self.catalog, self.submit = combo, catalog, submit
        self._changed, self._moved_on = changed, chosen
        self.completer = QCompleter(catalog.names, combo)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        combo.setCompleter(self.completer)
        line, popup = combo.lineEdit(), self.completer.popup()
        assert line is not None
        assert popup is not None
        self.line: QLineEdit = line
        self.popup: QAbstractItemView = popup
        line.textEdited.connect(self._typed)
        combo.currentIndexChanged.connect(lambda _index: self._changed(False))
        line.editingFinished.connect(lambda: self._changed(False))
        self.completer.activated.connect(self.choose)
        self._keys = _PairEnterKeys(self)
        line.installEventFilter(self._keys)
        popup.installEventFilter(self._keys)  # after the completer's own filter: it sees Enter first

    def _typed(self, text: str) -> None:
        if self.catalog.get(text.strip().upper()) is not None:
            self._changed(False)
        elif self.submit.isEnabled():
            self.submit.setEnabled(False)  # what is typed is no pair yet: nothing to send

    def enter(self) -> None:
        """Enter in the pair box: take the completer's match (the highlighted one, or the only one)."""
        completer, popup = self.completer, self.popup
        text = self.combo.currentText().strip()
        chosen: str | None = None
        if popup.isVisible() and popup.currentIndex().isValid():
            chosen = str(popup.currentIndex().data())
        elif self.catalog.get(text.upper()) is not None:
            chosen = text.upper()
        else:
            completer.setCompletionPrefix(text)
            if text and completer.completionCount() == 1:
                chosen = completer.currentCompletion()
            elif text and completer.completionCount() > 1:
                completer.complete()  # several pairs match: the list stays open for the arrows
                return
        popup.hide()
        if chosen is None:
            self._changed(True)
            return
        self.choose(chosen)

    def choose(self, name: str) -> None:
        index = self.combo.findText(name, Qt.MatchFlag.MatchFixedString)
        if index >= 0:
            self.combo.setCurrentIndex(index)
        self.combo.setEditText(name)
        self._changed(False)
        self._moved_on()


class _PairEnterKeys(QObject):
    """Enter in the pair box (or in its completer's list) picks the pair; it never reaches a submit.

    Installed after the completer's own filter, so it sees the key first: QCompleter would
    otherwise complete and then hand the same Enter on to the line edit.
    """

    def __init__(self, box: PairBox) -> None:
        super().__init__(box)
        self.box = box

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) and event.key() in ENTER_KEYS:
            self.box.enter()
            return True
        return False
