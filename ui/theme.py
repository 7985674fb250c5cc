"""The desk's colours and style sheet, in one place so every widget speaks the same colour language.

A dark palette: traders stare at boards all day, and green/red/amber read best on dark grey.
Status and side colours are shared by the board, the detail view and the ticket.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from engine.domain import Direction, OrderStatus

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

SIDE_COLORS: dict[Direction, QColor] = {Direction.BUY: BUY_COLOR, Direction.SELL: SELL_COLOR}

STYLE_SHEET = """
QMainWindow, QDialog { background: #171a21; }
QToolTip { color: #e6e9ef; background: #262b36; border: 1px solid #3a4150; padding: 4px; }
QTableView {
    background: #1b1f27; alternate-background-color: #1f242d; gridline-color: #272c36;
    selection-background-color: #2c3a55; selection-color: #ffffff; border: 1px solid #272c36;
}
QTableView::item { padding: 0 4px; }
QHeaderView::section {
    background: #222732; color: #aab2c0; border: none; border-right: 1px solid #2d3340;
    border-bottom: 1px solid #2d3340; padding: 4px 6px; font-weight: 600;
}
QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox, QPlainTextEdit {
    background: #10131a; border: 1px solid #343b4a; border-radius: 4px; padding: 4px 6px; color: #e6e9ef;
}
QLineEdit:focus, QComboBox:focus, QSpinBox:focus, QDoubleSpinBox:focus { border-color: #4c8dff; }
QLineEdit[invalid="true"] { border-color: #f0545c; }
QLabel#fieldError { color: #ff7b82; }
QLabel#hint { color: #8b93a1; }
QLabel#sectionTitle { color: #aab2c0; font-weight: 600; margin-top: 6px; }
QPushButton { background: #2a303c; border: 1px solid #3a4150; border-radius: 4px; padding: 5px 12px; color: #e6e9ef; }
QPushButton:hover { background: #333a48; }
QPushButton:disabled { color: #6b7280; background: #222731; border-color: #2b313c; }
QPushButton#sideBuy, QPushButton#sideSell { font-weight: 700; padding: 7px 0; }
QPushButton#sideBuy:checked { background: #1f9d62; border-color: #26c281; color: white; }
QPushButton#sideSell:checked { background: #c23b44; border-color: #f0545c; color: white; }
QPushButton#submitBuy { background: #1f9d62; border-color: #26c281; color: white; font-weight: 700; padding: 8px; }
QPushButton#submitSell { background: #c23b44; border-color: #f0545c; color: white; font-weight: 700; padding: 8px; }
QPushButton#submitBuy:disabled, QPushButton#submitSell:disabled { background: #2a303c; color: #6b7280; }
QDockWidget::title { background: #222732; padding: 5px; color: #aab2c0; }
QStatusBar { background: #12151b; color: #aab2c0; }
QStatusBar QLabel { padding: 0 8px; }
QGroupBox { border: 1px solid #2d3340; border-radius: 5px; margin-top: 14px; padding-top: 6px; color: #aab2c0; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; }
"""


def dark_palette() -> QPalette:
    palette = QPalette()
    base, window, text = QColor("#1b1f27"), QColor("#171a21"), QColor("#e6e9ef")
    palette.setColor(QPalette.ColorRole.Window, window)
    palette.setColor(QPalette.ColorRole.WindowText, text)
    palette.setColor(QPalette.ColorRole.Base, base)
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#1f242d"))
    palette.setColor(QPalette.ColorRole.Text, text)
    palette.setColor(QPalette.ColorRole.Button, QColor("#2a303c"))
    palette.setColor(QPalette.ColorRole.ButtonText, text)
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#2c3a55"))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.ToolTipBase, QColor("#262b36"))
    palette.setColor(QPalette.ColorRole.ToolTipText, text)
    palette.setColor(QPalette.ColorRole.PlaceholderText, MUTED_TEXT)
    palette.setColor(QPalette.ColorRole.Link, QColor("#6ea8ff"))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b7280"))
    return palette


def apply_theme(app: QApplication) -> None:
    """Fusion draws the same on every platform, so screenshots match what users see."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(STYLE_SHEET)


def monospace_font(point_size: int | None = None) -> QFont:
    """Digits of equal width, so prices and amounts line up in columns."""
    font = QFont("DejaVu Sans Mono")
    font.setStyleHint(QFont.StyleHint.Monospace)
    if point_size:
        font.setPointSize(point_size)
    return font
