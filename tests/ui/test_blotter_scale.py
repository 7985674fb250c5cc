"""A blotter holding a trading day of fills costs nothing while nobody looks at it.

At 1366 px the Fills are a tab behind the Account. With columns sized to their contents, a view
that is not on screen measured every row: a theme change with 20,000 fills asked `data()` for each
cell of each row and held the desk for minutes. Its columns now have fixed widths.
"""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from engine.model.domain import OrderStatus, Venue
from engine.trading.pairs import default_catalog
from tests.ui.test_board import make_order
from ui.blotter import FillsBlotter
from ui.theme import apply_theme


def test_a_hidden_blotter_with_many_fills_is_not_measured_on_a_theme_change(qtbot: QtBot) -> None:
    blotter = FillsBlotter(default_catalog())
    qtbot.addWidget(blotter)
    fills = [
        make_order(number, status=OrderStatus.CONFIRMED, execution_price=Decimal("148.5"), dex=Venue.RAYDIUM)
        for number in range(1, 5001)
    ]
    blotter.apply(fills)
    assert blotter.fills_model.rowCount() == 5000
    asked: list[int] = []
    model = blotter.fills_model
    data = model.data
    model.data = lambda index, role=0: asked.append(index.row()) or data(index, role)  # type: ignore[method-assign]
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "light")
    apply_theme(app, "dark")
    assert len(set(asked)) < 100, f"{len(set(asked))} rows measured"
