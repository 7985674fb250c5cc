"""The chart shows what triggers: each venue's fee-inclusive BUY and SELL prices, and a way back to live."""

from __future__ import annotations

import time
from decimal import Decimal

from PySide6.QtCore import Qt

from engine.model.domain import Direction, Venue
from tests.ui.conftest import Desk


def test_the_chart_draws_what_a_buy_pays_and_a_sell_gets_on_each_venue(desk: Desk) -> None:
    chart = desk.window.chart
    chart.set_pair("SOL-USDC")
    at = desk.engine.market_time()
    chart.sample()
    for (venue, side), curve in chart._curves.items():
        _xs, ys = curve.getData()
        # What the router quotes for the smallest order at that moment, fees in (impact ~0).
        quote = desk.engine.router.quote_for(
            desk.engine.catalog["SOL-USDC"], Decimal("0.001"), side, venue, at
        ).effective_price
        assert abs(ys[-1] - float(quote)) <= float(quote) * 1e-6, (venue, side)
    _xs, reference = chart._reference.getData()
    buy = {venue: chart._curves[(venue, Direction.BUY)].getData()[1][-1] for venue in Venue}
    sell = {venue: chart._curves[(venue, Direction.SELL)].getData()[1][-1] for venue in Venue}
    assert all(sell[venue] < buy[venue] for venue in Venue)
    assert max(sell.values()) < min(buy.values()), "no free round trip on the chart either"
    assert reference[-1] > 0


def test_after_a_pan_back_to_live_follows_the_live_edge_again(desk: Desk) -> None:
    chart = desk.window.chart
    chart.set_pair("SOL-USDC")
    assert chart.live.isHidden()
    view = chart.plot.getViewBox()
    view.setXRange(time.time() - 7200, time.time() - 3600, padding=0)
    view.sigRangeChangedManually.emit([True, False])  # what a drag or a wheel zoom announces
    assert not chart.live.isHidden()
    chart.sample()
    assert view.viewRange()[0][1] < time.time() - 3000, "a panned view stays where the trader put it"
    desk.qtbot.mouseClick(chart.live, Qt.MouseButton.LeftButton)
    assert chart.live.isHidden()
    right = view.viewRange()[0][1]
    assert abs(right - (time.time() + 5)) < 30
