"""Issue 24's P3 list, as a trader notices it: the light theme everywhere on the board's bar, "1 order"."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtWidgets import QApplication

from engine.model.domain import Direction
from engine.model.validation import OrderRequest
from tests.ui.conftest import Desk
from ui.theme import apply_theme


def test_the_light_theme_reaches_the_status_filter(desk: Desk) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "light")
    try:
        button = desk.window.board.filters.statuses
        colour = button.grab().toImage().pixelColor(button.width() // 2, 3)
        assert colour.lightness() > 160, f"Status: all stayed dark ({colour.name()})"
    finally:
        apply_theme(app, "dark")


def test_one_order_is_one_order(desk: Desk) -> None:
    desk.run(desk.engine.submit_many([OrderRequest("SOL-USDC", Decimal(1), Direction.BUY)]))
    desk.wait_idle()
    bar = desk.window.board.filters
    desk.qtbot.waitUntil(lambda: bar.count.text() == "1 order", timeout=5000)
