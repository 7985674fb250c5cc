"""The bar above the board: search, statuses (several at once), pair, active only, a one-click clear.

Every control that narrows the board is highlighted while it does, the count says "showing 24 of
354 — filters on", and "Clear filters" (or Esc in the search box) puts everything back in one go.
The bar only edits a `BoardFilter`; the board applies it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QToolButton,
    QWidget,
)

from engine.model.domain import OrderStatus
from engine.trading.pairs import PairCatalog
from ui.board.columns import RUNNING_STATES
from ui.board.filter import PRESETS, BoardFilter

ALL = "All"
SEARCH_PAUSE_MS = 150

FILTER_STYLE = """
*[filterOn="true"] { border: 1px solid #e0a030; background: #2e2717; color: #ffd27a; }
QLabel#boardCount[filterOn="true"] { border: none; background: transparent; font-weight: 600; }
QPushButton#clearFilters { color: #ffd27a; border-color: #e0a030; }
QToolButton#statusFilter {
    background: palette(button); border: 1px solid palette(mid); border-radius: 4px; padding: 4px 20px 4px 10px;
    color: palette(button-text);
}
QToolButton#statusFilter[filterOn="true"] { border-color: #e0a030; background: #2e2717; color: #ffd27a; }
QToolButton#statusFilter::menu-indicator { subcontrol-position: right center; right: 6px; }
"""


class SearchBox(QLineEdit):
    """Esc clears the search (and then the other filters), as a trader expects from a find box."""

    escaped = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.escaped.emit()
            return
        super().keyPressEvent(event)


class FilterBar(QWidget):
    changed = Signal(object)  # the new BoardFilter

    def __init__(self, catalog: PairCatalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(FILTER_STYLE)
        self.search = SearchBox(placeholderText="Search id, pair, side, venue or tx hash   (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setObjectName("boardSearch")
        self.search.setMinimumWidth(180)  # with the chart, account and fills docks open it collapsed to "Se…"
        self._status_menu()
        self._running_view()
        self.pair = QComboBox()
        self.pair.setObjectName("pairFilter")
        self.pair.addItem(ALL, None)
        for name in catalog.names:
            self.pair.addItem(name, name)
        self.active_only = QCheckBox("Active only")
        self.active_only.setToolTip("Hide CONFIRMED, FAILED and CANCELLED orders (Ctrl+Shift+A)")
        self.clear = QPushButton("✕ Clear filters")
        self.clear.setObjectName("clearFilters")
        self.clear.setToolTip("Show every order again (Esc in the search box)")
        self.count = QLabel()
        self.count.setObjectName("boardCount")
        # Minimums that do not follow the text: "Status: CONFIRMED + FAILED" and "showing … — filters
        # on" made the bar ask for 1,038 px and the window grew past a 1366-px screen (issue 24).
        # With room they show whole; squeezed they are cut, and their tooltips say it all.
        self.statuses.setMinimumWidth(100)
        self.count.setMinimumWidth(70)
        self.clear.setMinimumWidth(90)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search, 3)
        layout.addWidget(self.running)
        layout.addWidget(self.statuses)
        layout.addWidget(QLabel("Pair"))
        layout.addWidget(self.pair)
        layout.addWidget(self.active_only)
        layout.addWidget(self.clear)
        layout.addStretch(1)
        layout.addWidget(self.count)

        # Typing re-filters once the keys pause, not on every key.
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_PAUSE_MS)
        self._search_timer.timeout.connect(self._emit)
        self.search.textChanged.connect(self._search_timer.start)
        self.search.escaped.connect(self._escape)
        self.pair.currentIndexChanged.connect(self._emit)
        self.active_only.toggled.connect(self._emit)
        self.clear.clicked.connect(self.clear_all)
        self._quiet = False
        self._shown = BoardFilter()
        self._highlight(self._shown)

    def _status_menu(self) -> None:
        """Status: presets (Active, Ended, …), All, then a tick per status, several at once."""
        self.statuses = QToolButton()
        self.statuses.setObjectName("statusFilter")
        self.statuses.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.statuses.setToolTip("Show only some statuses (tick several)")
        self.status_menu = QMenu(self.statuses)
        self.status_actions: dict[OrderStatus, QAction] = {}
        for name, preset in PRESETS.items():
            action = self.status_menu.addAction(f"{name}: {' + '.join(str(s) for s in OrderStatus if s in preset)}")
            action.triggered.connect(lambda _checked=False, preset=preset: self.set_statuses(preset))
        self.status_menu.addAction(f"{ALL} statuses", lambda: self.set_statuses(frozenset()))
        self.status_menu.addSeparator()
        for status in OrderStatus:
            action = self.status_menu.addAction(str(status))
            action.setCheckable(True)
            action.toggled.connect(self._emit)
            self.status_actions[status] = action
        self.statuses.setMenu(self.status_menu)

    def _running_view(self) -> None:
        """The "Running" toggle and its Ctrl+R: orders in flight only."""
        self.running = QPushButton("Running")
        self.running.setObjectName("runningView")
        self.running.setCheckable(True)
        self.running.setToolTip("Show only orders in flight: ROUTING, BUILDING, SUBMITTED (Ctrl+R)")
        self.running_shortcut = QAction("Running orders only", self)
        self.running_shortcut.setShortcut("Ctrl+R")
        self.running_shortcut.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.running_shortcut.triggered.connect(self.running.toggle)  # at once, not a button's animated click
        self.addAction(self.running_shortcut)
        self.running.toggled.connect(lambda on: self.set_statuses(RUNNING_STATES if on else frozenset()))

    # -- reading and writing the filter ---------------------------------------------------

    def current(self) -> BoardFilter:
        return BoardFilter(
            search=self.search.text().strip(),
            statuses=frozenset(status for status, action in self.status_actions.items() if action.isChecked()),
            pair=self.pair.currentData(),
            active_only=self.active_only.isChecked(),
        )

    def set_statuses(self, statuses: frozenset[OrderStatus]) -> None:
        def write() -> None:
            for status, action in self.status_actions.items():
                action.setChecked(status in statuses)

        self._batch(write)

    def set_filter(self, chosen: BoardFilter, search_text: str | None = None) -> None:
        """Show `chosen` in the controls and apply it once (not once per control)."""

        def write() -> None:
            self.search.setText(search_text if search_text is not None else chosen.search)
            for status, action in self.status_actions.items():
                action.setChecked(status in chosen.statuses)
            found = self.pair.findData(chosen.pair) if chosen.pair else 0
            self.pair.setCurrentIndex(max(found, 0))
            self.active_only.setChecked(chosen.active_only)

        self._batch(write)

    def clear_all(self) -> None:
        self.set_filter(BoardFilter())

    def apply_search_now(self) -> None:
        self._emit()

    def _escape(self) -> None:
        if self.search.text():
            self.search.clear()
            self._emit()
        else:
            self.clear_all()

    def _batch(self, write: Callable[[], None]) -> None:
        self._quiet = True
        try:
            write()
        finally:
            self._quiet = False
        self._emit()

    def _emit(self) -> None:
        if self._quiet:
            return
        self._search_timer.stop()
        chosen = self.current()
        if chosen == self._shown:
            return
        self._shown = chosen
        self._highlight(chosen)
        self.changed.emit(chosen)

    # -- how the bar looks ----------------------------------------------------------------

    def _highlight(self, chosen: BoardFilter) -> None:
        statuses = chosen.statuses
        named = next((name for name, preset in PRESETS.items() if preset == statuses), None)
        if not statuses:
            self.statuses.setText("Status: all")
        elif named:
            self.statuses.setText(f"Status: {named}")
        else:
            self.statuses.setText(f"Status: {len(statuses)} chosen" if len(statuses) > 2 else
                                  f"Status: {' + '.join(str(s) for s in OrderStatus if s in statuses)}")  # fmt: skip
        self.statuses.setToolTip(
            "Shown: " + (", ".join(str(s) for s in OrderStatus if s in statuses) or "every status")
        )
        self.running.blockSignals(True)
        self.running.setChecked(statuses == RUNNING_STATES)
        self.running.blockSignals(False)
        for widget, on in (
            (self.search, bool(chosen.search)),
            (self.statuses, bool(statuses)),
            (self.running, statuses == RUNNING_STATES),
            (self.pair, chosen.pair is not None),
            (self.active_only, chosen.active_only),
            (self.count, chosen.is_filtering),
        ):
            if widget.property("filterOn") != on:
                widget.setProperty("filterOn", on)
                widget.style().unpolish(widget)
                widget.style().polish(widget)
        self.clear.setVisible(chosen.is_filtering)

    def show_counts(self, shown: int, total: int, running: int) -> None:
        self.running.setText(f"Running {running:,}")
        if self._shown.is_filtering:
            self.count.setText(f"showing {shown:,} of {total:,} — filters on")
            self.count.setToolTip("Filters: " + ", ".join(self._shown.describe()))
        else:
            self.count.setText(f"{total:,} order{'' if total == 1 else 's'}")
            self.count.setToolTip("")
