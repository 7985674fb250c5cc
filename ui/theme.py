"""The desk's colours and style sheet, in one place so every widget speaks the same colour language.

Dark by default (traders stare at boards all day, and green/red/amber read best on dark grey),
light as a setting. Status and side colours are shared by the board, the detail view and the ticket.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from string import Template

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from engine.model.domain import Direction, OrderStatus

BUY_COLOR = QColor("#26c281")
SELL_COLOR = QColor("#f0545c")
MUTED_TEXT = QColor("#8b93a1")
ERROR_TEXT = QColor("#ff7b82")
WINNER_TEXT = QColor("#5fe3a1")

STATUS_COLORS: dict[OrderStatus, QColor] = {
    OrderStatus.PENDING: QColor("#c9962b"),
    OrderStatus.ROUTING: QColor("#2a9fb0"),
    OrderStatus.BUILDING: QColor("#3f7fe0"),
    OrderStatus.SUBMITTED: QColor("#8a5fd6"),
    OrderStatus.CONFIRMED: QColor("#1f9d62"),
    OrderStatus.FAILED: QColor("#cf3f48"),
    OrderStatus.CANCELLED: QColor("#6b7280"),
}

# An order that ended without a swap and without anything going wrong (expired, cancelled).
NEUTRAL_END_COLOR = STATUS_COLORS[OrderStatus.CANCELLED]

SIDE_COLORS: dict[Direction, QColor] = {Direction.BUY: BUY_COLOR, Direction.SELL: SELL_COLOR}


@dataclass(frozen=True, slots=True)
class Theme:
    """One colour scheme: the palette, the style sheet, and the text colours tables paint with."""

    name: str
    window: str
    base: str
    alternate: str
    text: str
    muted: str
    disabled: str
    button: str
    border: str
    header: str
    highlight: str
    focus: str
    field: str
    status_bar: str
    error_text: str
    winner_text: str
    buy_text: str
    sell_text: str
    rate_full_style: str
    """The status bar's rate label when the window is full: loud enough to explain a queue that waits."""

    def style_sheet(self) -> str:
        return _STYLE_TEMPLATE.substitute(
            window=self.window,
            base=self.base,
            alternate=self.alternate,
            text=self.text,
            muted=self.muted,
            disabled=self.disabled,
            button=self.button,
            border=self.border,
            header=self.header,
            highlight=self.highlight,
            focus=self.focus,
            field=self.field,
            status_bar=self.status_bar,
            error_text=self.error_text,
        )

    def palette(self) -> QPalette:
        palette = QPalette()
        text = QColor(self.text)
        palette.setColor(QPalette.ColorRole.Window, QColor(self.window))
        palette.setColor(QPalette.ColorRole.WindowText, text)
        palette.setColor(QPalette.ColorRole.Base, QColor(self.base))
        palette.setColor(QPalette.ColorRole.AlternateBase, QColor(self.alternate))
        palette.setColor(QPalette.ColorRole.Text, text)
        palette.setColor(QPalette.ColorRole.Button, QColor(self.button))
        palette.setColor(QPalette.ColorRole.ButtonText, text)
        palette.setColor(QPalette.ColorRole.Highlight, QColor(self.highlight))
        palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff" if self.name == "dark" else "#0b1220"))
        palette.setColor(QPalette.ColorRole.ToolTipBase, QColor(self.header))
        palette.setColor(QPalette.ColorRole.ToolTipText, text)
        palette.setColor(QPalette.ColorRole.PlaceholderText, QColor(self.muted))
        palette.setColor(QPalette.ColorRole.Link, QColor(self.focus))
        for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(self.disabled))
        return palette


DARK = Theme(
    name="dark",
    window="#171a21",
    base="#1b1f27",
    alternate="#1f242d",
    text="#e6e9ef",
    muted="#8b93a1",
    disabled="#6b7280",
    button="#2a303c",
    border="#343b4a",
    header="#222732",
    highlight="#2c3a55",
    focus="#4c8dff",
    field="#10131a",
    status_bar="#12151b",
    error_text="#ff7b82",
    winner_text="#5fe3a1",
    buy_text="#26c281",
    sell_text="#f0545c",
    rate_full_style="background: #5a4312; color: #ffd27a; font-weight: 600; border-radius: 3px;",
)

LIGHT = Theme(
    name="light",
    window="#f3f4f6",
    base="#ffffff",
    alternate="#f6f7f9",
    text="#1b2230",
    muted="#5f6877",
    disabled="#9aa1ad",
    button="#e4e7ec",
    border="#c5cad3",
    header="#e9ecf1",
    highlight="#cfe0ff",
    focus="#2f6fdf",
    field="#ffffff",
    status_bar="#e9ecf1",
    error_text="#c62832",
    winner_text="#11804b",
    buy_text="#11804b",
    sell_text="#c62832",
    rate_full_style="background: #ffe2a8; color: #6b4300; font-weight: 600; border-radius: 3px;",
)

THEMES = {theme.name: theme for theme in (DARK, LIGHT)}

_STYLE_TEMPLATE = Template("""
QMainWindow, QDialog { background: $window; }
QToolTip { color: $text; background: $header; border: 1px solid $border; padding: 4px; }
QTableView {
    background: $base; alternate-background-color: $alternate; gridline-color: $header;
    selection-background-color: $highlight; border: 1px solid $header;
}
QTableView::item { padding: 0 4px; }
QHeaderView::section {
    background: $header; color: $muted; border: none; border-right: 1px solid $border;
    border-bottom: 1px solid $border; padding: 4px 6px; font-weight: 600;
}
QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox, QPlainTextEdit {
    background: $field; border: 1px solid $border; border-radius: 4px; padding: 4px 6px; color: $text;
}
QLineEdit:focus, QComboBox:focus, QSpinBox:focus, QDoubleSpinBox:focus { border-color: $focus; }
QLineEdit[invalid="true"] { border-color: #f0545c; }
QLabel#fieldError { color: $error_text; }
QLabel#hint { color: $muted; }
QLabel#sectionTitle { color: $muted; font-weight: 600; margin-top: 6px; }
QLabel#notice {
    background: $header; color: $text; border: 1px solid $border; border-radius: 4px; padding: 2px 10px;
}
QPushButton { background: $button; border: 1px solid $border; border-radius: 4px; padding: 5px 12px; color: $text; }
QPushButton:hover { border-color: $focus; }
QPushButton:disabled { color: $disabled; background: $header; border-color: $border; }
QPushButton#sideBuy, QPushButton#sideSell { font-weight: 700; padding: 7px 0; }
QPushButton#sideBuy:checked { background: #1f9d62; border-color: #26c281; color: white; }
QPushButton#sideSell:checked { background: #c23b44; border-color: #f0545c; color: white; }
QPushButton#submitBuy { background: #1f9d62; border-color: #26c281; color: white; font-weight: 700; padding: 8px; }
QPushButton#submitSell { background: #c23b44; border-color: #f0545c; color: white; font-weight: 700; padding: 8px; }
QPushButton#submitBuy:disabled, QPushButton#submitSell:disabled { background: $button; color: $disabled; }
QDockWidget::title { background: $header; padding: 5px; color: $muted; }
QStatusBar { background: $status_bar; color: $muted; }
QStatusBar QLabel { padding: 0 8px; }
QGroupBox { border: 1px solid $border; border-radius: 5px; margin-top: 14px; padding-top: 6px; color: $muted; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; }
""")

_current = DARK
STYLE_SHEET = DARK.style_sheet()


def current_theme() -> Theme:
    return _current


def dark_palette() -> QPalette:
    return DARK.palette()


# Widgets that paint outside the palette (the chart's plot) follow a theme change through these.
_listeners: list[weakref.WeakMethod[Callable[[Theme], None]]] = []


def follow_theme(method: Callable[[Theme], None]) -> None:
    """Call a widget's bound `method(theme)` now and on every theme change, for as long as the widget lives."""
    _listeners.append(weakref.WeakMethod(method))
    method(_current)


def apply_theme(app: QApplication, name: str = "dark") -> Theme:
    """Fusion draws the same on every platform, so screenshots match what users see.

    The shared text colours (muted, error, winner, sides) are changed in place: every table
    holds these very QColor objects, so one call recolours the whole desk's next paint.
    """
    global _current
    theme = THEMES.get(name, DARK)
    _current = theme
    app.setStyle("Fusion")
    app.setPalette(theme.palette())
    app.setStyleSheet(theme.style_sheet())
    for shared, value in (
        (MUTED_TEXT, theme.muted),
        (ERROR_TEXT, theme.error_text),
        (WINNER_TEXT, theme.winner_text),
        (BUY_COLOR, theme.buy_text),
        (SELL_COLOR, theme.sell_text),
    ):
        shared.setRgba(QColor(value).rgba())
    for reference in list(_listeners):
        method = reference()
        if method is None:
            _listeners.remove(reference)
            continue
        try:
            method(theme)
        except RuntimeError:  # the widget's C++ side is gone (a closed desk)
            _listeners.remove(reference)
    return theme


def monospace_font(point_size: int | None = None) -> QFont:
    """Digits of equal width, so prices and amounts line up in columns."""
    font = QFont("DejaVu Sans Mono")
    font.setStyleHint(QFont.StyleHint.Monospace)
    if point_size:
        font.setPointSize(point_size)
    return font
