"""The chart's axes are kept as pictures between changes, and drawn again whenever the view moves.

Each axis carries its grid across the whole plot, so every repaint of the plot (a new fill, a new
market sample, once a second following live) replayed both axes' recorded tick labels: about half
of the chart's paint. They are now cached as device pixmaps; a trader must still see the labels
follow a zoom or a pan at once.
"""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QImage, QPixmap

from tests.ui.conftest import Desk


def _axis_image(desk: Desk, side: str) -> QImage:
    """What the trader sees of one axis: its strip of tick labels (its grid lines cross the plot)."""
    view = desk.window.chart.plot
    axis = view.getAxis(side)
    strip: QRect = view.mapFromScene(axis.mapRectToScene(axis.rect())).boundingRect()
    picture: QPixmap = view.grab(strip)
    return picture.toImage()


def test_the_price_axis_follows_a_zoom_and_stays_put_without_one(desk: Desk) -> None:
    chart = desk.window.chart
    chart.set_pair("SOL-USDC")
    chart.resize(700, 420)
    view = chart.plot.getViewBox()
    view.setYRange(140, 150, padding=0)
    before = _axis_image(desk, "left")
    assert _axis_image(desk, "left") == before, "nothing moved: the same picture"

    view.setYRange(100, 200, padding=0)
    zoomed = _axis_image(desk, "left")
    assert zoomed != before, "the price labels were not drawn again after a zoom"
    labels = [value for _spacing, values in chart.plot.getAxis("left").tickValues(100, 200, 400) for value in values]
    assert 150.0 in labels

    view.setYRange(140, 150, padding=0)
    assert _axis_image(desk, "left") == before, "back where it was: the first picture again"


def test_the_time_axis_follows_a_pan(desk: Desk) -> None:
    chart = desk.window.chart
    chart.resize(700, 420)
    view = chart.plot.getViewBox()
    view.setXRange(1_765_500_000, 1_765_500_300, padding=0)
    before = _axis_image(desk, "bottom")
    view.setXRange(1_765_600_000, 1_765_600_300, padding=0)
    assert _axis_image(desk, "bottom") != before, "the time labels were not drawn again after a pan"
