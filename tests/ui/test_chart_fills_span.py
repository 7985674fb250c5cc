"""The chart hands pyqtgraph the fills around its view, not a trading day's worth (issue 24 item 6).

Every point given to a scatter plot is re-styled on each redraw: with 100,000 stored orders a pair
has thousands of fills, nearly all far left of a live view, and each redraw held the window 40–85 ms
while a burst streamed (`dexdesk bench window`). Panning to the past still shows that past's fills.
"""

from __future__ import annotations

from app.bench.databases import finished_orders
from engine.model.domain import Direction
from tests.ui.conftest import Desk


def test_old_fills_are_drawn_only_when_the_view_goes_back_to_them(desk: Desk) -> None:
    chart = desk.window.chart
    chart.set_pair("SOL-USDC")
    old = [order for order in finished_orders(3000) if order.pair == "SOL-USDC"]  # a day of 2025-12-12
    assert len(old) > 100
    chart.apply(old)
    order = desk.run(desk.engine.submit("SOL-USDC", "1", "BUY"))
    desk.wait_idle()
    desk.window.bridge.flush()
    chart.redraw()
    drawn = {int(row) for item in (chart._buys, chart._sells) for row in item.data["data"]}
    fills = chart.model.fills("SOL-USDC")
    assert len(fills) == len(old) + 1, "the model keeps every fill"
    assert len(drawn) == 1, f"{len(drawn)} points handed to the scatter in a live view"
    assert fills[-1].order_id == order.id

    # The trader pans back to that day: its fills appear, the newest no longer needed.
    first, last = old[0].updated_at.timestamp(), old[-1].updated_at.timestamp()
    chart.plot.getViewBox().setXRange(first, last, padding=0)
    buys = sum(1 for fill in old if fill.direction is Direction.BUY)
    assert len(chart._buys.data) == buys
    assert len(chart._buys.data) + len(chart._sells.data) == len(old)
