"""A two-hop order in the desk: the detail view names each hop, in the order the tokens flow, and why."""

from __future__ import annotations

from engine.model.domain import OrderStatus
from tests.ui.conftest import Desk


def test_a_two_hop_orders_detail_view_gives_each_hop_and_why(desk: Desk) -> None:
    order = desk.run(desk.engine.submit("SOL-RAY", "2", "SELL"))
    desk.wait_idle()
    dialog = desk.window.order_windows.open_detail(order.id)
    assert dialog is not None
    desk.qtbot.waitUntil(lambda: dialog.order.status is OrderStatus.CONFIRMED and dialog.order.logs != (), timeout=5000)
    venue = dialog.facts["Venue"].text()
    first, second = venue.split(" then ")
    assert first.endswith(" USDC")
    assert " 2 SOL → " in f" {first.split(' ', 1)[1]}"
    assert " USDC → " in second
    assert second.endswith(" RAY")
    assert "SOL-USDC on " in dialog.facts["Venue"].toolTip()
    assert "as landed" in dialog.facts["Venue"].toolTip()
    verdict = dialog.quote_verdict.text()
    assert verdict.startswith("Two hops via USDC")
    assert "on SOL-USDC at" in verdict
    assert "on RAY-USDC at" in verdict
    assert "bps" in verdict
    assert dialog.facts["Execution price"].text().endswith(" RAY")
    # The attempt's venue names both hops' venues as they trade, like the facts above, not one of them.
    hop_venues = [part.split(" ", 1)[0] for part in venue.split(" then ")]
    assert dialog.attempt_table.item(0, 2).text() == " then ".join(hop_venues)
    dialog.close()
