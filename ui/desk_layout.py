"""Where the desk's docks go, how the window fits its screen, and how both are kept between runs.

The default is a layout for trading (issue 24): the ticket down the left, and over the board the
price chart with the account beside it, so that what a trader types, the market it moves and the
position it changes are in view together with the board, on a 1366×768 laptop as on 1920×1080
(vn.py keeps them side by side). The board keeps the window's width less the ticket (~1,000 px at
1366), where its filter bar fits even with every filter on. Only the fills share a place, as a tab
behind the account, below `WIDE`; from there they get a strip under the board. The window is never
larger than the screen's free area: it grew to 1,425-1,434 px on a 1366-px screen as soon as a
filter changed the board's bar, so its maximum size follows the screen it is on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QByteArray, QObject, QRect, QSettings, QSize, Qt
from PySide6.QtGui import QScreen
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar

from ui.board.view import BoardView
from ui.layout_keeper import LayoutKeeper

# 2: the trading layout (docks side by side); a layout saved by version 1 (one tab stack) is replaced once.
LAYOUT_VERSION = 2
PREFERRED_SIZE = (1480, 860)
WIDE = 1600  # from this width the fills get their own place under the board


@dataclass(frozen=True, slots=True)
class Docks:
    ticket: QDockWidget
    chart: QDockWidget
    account: QDockWidget
    fills: QDockWidget

    def all(self) -> tuple[QDockWidget, ...]:
        return (self.ticket, self.chart, self.account, self.fills)


def fit_to_screen(available: QRect, preferred: tuple[int, int] | None = None) -> QRect:
    """The first-launch window: on a wide screen (≥ WIDE) the whole free area, the size the wide
    layout's docks are made for (`dock_sizes`); else the preferred size, shrunk to the free area (a
    1366×768 laptop keeps its status bar in view), centred on it. With `preferred` (a restored
    window that no longer fits), that size shrunk and centred.

    At 1920×1080 the first window used to be 1480×860 in the middle of the screen with the wide
    layout's fills strip in it: the board showed seven orders and a quarter of the screen was unused.
    """
    if preferred is None:
        if available.width() >= WIDE:
            return QRect(available)
        preferred = PREFERRED_SIZE
    width = min(preferred[0], available.width())
    height = min(preferred[1], available.height())
    left = available.x() + (available.width() - width) // 2
    top = available.y() + (available.height() - height) // 2
    return QRect(left, top, width, height)


def dock_sizes(available: QRect) -> tuple[int, int, int]:
    """Ticket width, account width and the chart's (and account's) height for a screen's free area.

    1366×728: 370, 500, 330 leaves the board ~990×310 px (10 rows); 1920×1040: 420, 560, 330 leaves
    ~1490×430 above the fills.
    """
    if available.width() >= WIDE:
        return 420, 560, 330
    return 370, 500, 330


class DeskLayout(QObject):
    """Arranges the docks, keeps the window within its screen, and saves and restores both."""

    def __init__(self, window: QMainWindow, docks: Docks, board: BoardView, layout_file: Path) -> None:
        super().__init__(window)
        self.window = window
        self.docks = docks
        self.board = board
        self.store = QSettings(str(layout_file), QSettings.Format.IniFormat)
        for corner, area in (
            (Qt.Corner.TopLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea),
            (Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea),
            (Qt.Corner.TopRightCorner, Qt.DockWidgetArea.TopDockWidgetArea),
            (Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.BottomDockWidgetArea),
        ):
            window.setCorner(corner, area)  # the ticket runs the full height; chart and account to the right edge
        self._sizes_after_show: QRect | None = None
        self.keeper = LayoutKeeper(self.save, self)
        self.keeper.watch_header(board.table.horizontalHeader())
        self.keeper.watch_dock(docks.ticket)
        self.keeper.watch_controls(board)

    def arrange(self, available: QRect) -> None:
        """The trading layout for a screen's free area: every dock docked, shown, side by side."""
        docks, window = self.docks, self.window
        top = Qt.DockWidgetArea.TopDockWidgetArea
        horizontal = Qt.Orientation.Horizontal
        for dock in docks.all():
            window.removeDockWidget(dock)
            dock.setFloating(False)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, docks.ticket)
        window.addDockWidget(top, docks.chart)
        window.splitDockWidget(docks.chart, docks.account, horizontal)
        if available.width() >= WIDE:
            window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, docks.fills)
        else:
            window.tabifyDockWidget(docks.account, docks.fills)
        for dock in docks.all():
            dock.setFloating(False)  # a dock that floated comes back into the window
            dock.show()
        docks.account.raise_()
        self._size_docks(available)
        if not window.isVisible():
            # A hidden window has not laid its docks out yet: showing it shares the space out again
            # (the account got ~420 of its 500 px at 1366, its columns clipped). Size them once shown.
            self._sizes_after_show = available
        self._hide_stale_tab_bars()

    def _size_docks(self, available: QRect) -> None:
        docks, window = self.docks, self.window
        ticket_width, account_width, top_height = dock_sizes(available)
        horizontal = Qt.Orientation.Horizontal
        window.resizeDocks([docks.ticket], [ticket_width], horizontal)
        # The chart and the account share the top area: both sizes given, or Qt shares out the rest itself.
        chart_width = max(window.width() - ticket_width - account_width, 1)
        window.resizeDocks([docks.chart, docks.account], [chart_width, account_width], horizontal)
        window.resizeDocks([docks.chart], [top_height], Qt.Orientation.Vertical)

    def shown(self) -> None:
        """The window is on screen: give the docks the sizes an arrangement made while it was hidden."""
        available, self._sizes_after_show = self._sizes_after_show, None
        if available is not None:
            with self.keeper.paused():
                self._size_docks(available)

    def _hide_stale_tab_bars(self) -> None:
        """Qt keeps the tab bar of a tab group the arrangement dissolved (the fills behind the account,
        then the fills under the board on a wider screen) and draws it over the chart: hide those."""
        window = self.window
        groups = {
            frozenset([dock.windowTitle(), *(other.windowTitle() for other in window.tabifiedDockWidgets(dock))])
            for dock in self.docks.all()
            if window.tabifiedDockWidgets(dock)
        }
        for bar in window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
            if frozenset(bar.tabText(index) for index in range(bar.count())) not in groups:
                bar.hide()

    def cap_to(self, screen: QScreen | None) -> None:
        """The window never grows past the screen's free area, whatever its widgets ask for."""
        if screen is not None:
            self.cap(screen.availableGeometry())

    def cap(self, available: QRect) -> None:
        frame = self.window.frameGeometry().size() - self.window.geometry().size()
        self.window.setMaximumSize(
            QSize(max(available.width() - frame.width(), 1), max(available.height() - frame.height(), 1))
        )

    def restore(self, available: QRect) -> None:
        """The saved window and docks if they fit this version and screen, else the trading layout."""
        with self.keeper.paused():
            geometry = self.store.value("window/geometry")
            state = self.store.value("window/state")
            # The window's size first, then the docks: docks sized in the not-yet-sized window were
            # scaled down with it (the account got ~400 of its 500 px at 1366, its columns clipped).
            if isinstance(geometry, QByteArray) and not geometry.isEmpty():
                self.window.restoreGeometry(geometry)
                if not available.contains(self.window.frameGeometry()):
                    self.window.setGeometry(fit_to_screen(available, (self.window.width(), self.window.height())))
            else:
                self.window.setGeometry(fit_to_screen(available))
            restored = isinstance(state, QByteArray) and not state.isEmpty()
            if not (restored and self.window.restoreState(state, LAYOUT_VERSION)):
                self.arrange(available)
            self.board.restore_state(self.store)

    def restore_default(self, available: QRect) -> None:
        """View → Restore default layout: the trading layout, the board's columns and filters as shipped."""
        with self.keeper.paused():
            self.arrange(available)
            self.board.restore_default_layout()
        self.keeper.save_now()

    def save(self) -> None:
        self.store.setValue("window/geometry", self.window.saveGeometry())
        self.store.setValue("window/state", self.window.saveState(LAYOUT_VERSION))
        self.board.save_state(self.store)
        self.store.sync()
