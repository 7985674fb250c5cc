"""The simulator's docks on a real desk: the chart's fills and limit lines match the stored orders,
the account panel follows fills, the ticket refuses a shortfall inline, the board shows notional and slippage."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt

from engine.account.model import notional, slippage_bps
from engine.model.domain import OrderStatus
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.ui.conftest import Desk
from ui.board.columns import Column


def test_the_chart_marks_every_fill_of_its_pair_at_its_price_and_time_and_draws_waiting_limits(desk: Desk) -> None:
    engine = desk.engine
    requests = random_requests(default_catalog(), 60, seed=4, pairs=["SOL-USDC", "JUP-USDC"])
    desk.run(engine.submit_many(requests))
    waiting = desk.run(engine.submit("SOL-USDC", "3", "BUY", order_type="limit", limit_price="1"))
    desk.qtbot.waitUntil(lambda: engine.owned_count() == 1, timeout=15_000)
    desk.window.bridge.flush()
    desk.window.ticket.pair.setCurrentText("SOL-USDC")
    stored = desk.run(engine.orders_page(limit=1000))
    for pair in ("SOL-USDC", "JUP-USDC"):
        desk.window.chart.set_pair(pair)
        expected = sorted(
            (order.updated_at.timestamp(), float(order.execution_price), order.direction, order.id)
            for order in stored
            if order.pair == pair and order.status is OrderStatus.CONFIRMED and order.execution_price is not None
        )
        drawn = sorted((m.x, m.price, m.direction, m.order_id) for m in desk.window.chart.model.fills(pair))
        assert drawn == expected
        assert expected
    assert [line.order_id for line in desk.window.chart.model.limits("SOL-USDC")] == [waiting.id]
    assert desk.window.chart.model.limits("SOL-USDC")[0].price == 1.0
    buys = desk.window.chart._buys.data  # what pyqtgraph holds: one point per BUY fill of the pair on show
    assert len(buys) == sum(1 for row in expected if str(row[2]) == "BUY")
    cancelled = desk.run(engine.cancel(waiting.id))
    assert cancelled.outcome == "cancelled"
    desk.window.bridge.flush()
    assert desk.window.chart.model.limits("SOL-USDC") == []


def test_a_waiting_limit_order_shows_its_limit_on_the_board_not_a_bare_pending(desk: Desk) -> None:
    buy = desk.run(desk.engine.submit("SOL-USDC", "3", "BUY", order_type="limit", limit_price="1"))
    sell = desk.run(desk.engine.submit("SOL-USDC", "2", "SELL", order_type="limit", limit_price="100000"))
    desk.window.bridge.flush()
    model = desk.window.board.model
    cell = lambda order, column: model.index(model.row_of(order.id) or 0, column.index)  # noqa: E731
    desk.qtbot.waitUntil(lambda: model.row_of(sell.id) is not None, timeout=5000)

    assert cell(buy, Column.STATUS).data() == cell(sell, Column.STATUS).data() == "PENDING limit"
    assert cell(buy, Column.PRICE).data() == "≤ 1.0000"
    assert cell(sell, Column.PRICE).data() == "≥ 100,000.0000"
    assert cell(buy, Column.PRICE).data(Qt.ItemDataRole.ToolTipRole) == (
        "Limit order waiting for the market: it routes once the best price is ≤ 1.0000, with no expiry"
    )


def test_the_account_panel_follows_fills_and_the_ticket_refuses_a_shortfall_inline(desk: Desk) -> None:
    engine = desk.engine
    desk.run(engine.reset_account("USDC=1000,SOL=2"))
    ticket = desk.window.ticket
    ticket.pair.setCurrentText("SOL-USDC")
    ticket.amount.setText("50")
    assert ticket.try_submit()
    desk.qtbot.waitUntil(ticket.submit_error.isVisible, timeout=5000)
    # The ticket's own check (once it has read the account) or the engine's refusal: either way one
    # line in the ticket's words, naming the token, what the order needs and what is available.
    said = ticket.submit_error.text()
    assert said.startswith(("Amount: needs ", "Not enough USDC: needs ")), said
    assert "USDC" in said
    assert said.endswith("1,000.00 available")
    assert desk.run(engine.counts_by_status()) == {}

    ticket.amount.setText("1.5")
    assert ticket.try_submit()
    desk.qtbot.waitUntil(lambda: desk.window.blotter.fills_model.rowCount() == 1, timeout=10_000)
    desk.wait_idle()
    panel = desk.window.account_panel
    # The starting SOL and USDC are positions from the reset on (at their marks then); the fill adds to SOL's.
    desk.qtbot.waitUntil(
        lambda: (
            panel.view is not None
            and [(p.pair, p.fills) for p in panel.view.positions]
            == [
                ("SOL-USDC", 1),
                ("USDC-USDT", 0),
            ]
        ),
        timeout=10_000,
    )
    [order] = desk.window.blotter.fills_model.fills()
    assert order.execution_price is not None
    texts = {panel.balances.item(row, 0).text(): panel.balances.item(row, 1).text() for row in range(2)}
    assert [panel.balances.item(row, 0).text() for row in range(2)] == ["USDC", "SOL"], "largest holding first"
    assert texts["SOL"] == "3.5000", "SOL at its 4 decimals, not 2"
    position = next(p for p in panel.view.positions if p.pair == "SOL-USDC")
    row = next(r for r in range(panel.positions.rowCount()) if panel.positions.item(r, 0).text() == "SOL-USDC")
    assert panel.positions.item(row, 1).text() == "3.5000", "the starting 2 SOL and the 1.5 bought, at 4 decimals"
    assert panel.positions.item(row, 2).text() == f"{position.average_cost:,.4f}", "at SOL-USDC's price decimals"
    assert len(panel.positions.item(row, 2).text()) < 12, "never a raw 28-digit Decimal"
    assert texts["USDC"] == f"{Decimal(1000) - Decimal('1.5') * order.execution_price:,.2f}"
    model = desk.window.board.model
    row = next(r for r in range(model.rowCount()) if model.order_at(r).id == order.id)
    notional_text = model.index(row, Column.NOTIONAL.index).data()
    assert notional_text == f"{notional(order):,.2f}"
    assert model.index(row, Column.SLIPPAGE.index).data() == f"{slippage_bps(order):+}"


def test_the_ticket_sends_its_live_quote_and_confirms_first_when_asked(desk: Desk) -> None:
    ticket = desk.window.ticket
    sent: list[object] = []
    ticket.submit_requested.connect(sent.append)
    ticket.pair.setCurrentText("SOL-USDC")
    ticket.amount.setText("2")
    ticket.slippage.setValue(0.5)
    assert ticket.quote_age.text().startswith("quoted ")
    ticket.confirm.setChecked(True)
    assert ticket.try_submit()
    assert sent == []  # nothing goes out before the trader says Send
    box = ticket.confirmation
    assert "Max spent" in box.text()
    assert "Slippage tolerance: 0.50 %" in box.text()
    box.accept()
    desk.qtbot.waitUntil(lambda: len(sent) == 1, timeout=5000)
    request = sent[0]
    decision = ticket.decision
    assert decision is not None
    assert request.quoted_price is not None  # type: ignore[attr-defined]
    assert request.slippage == Decimal("0.005")  # type: ignore[attr-defined]
    desk.qtbot.waitUntil(lambda: desk.window.board.model.rowCount() == 1, timeout=5000)
    desk.wait_idle()
    [order] = desk.run(engine_orders(desk))
    assert order.terms.quoted_price == request.quoted_price  # type: ignore[attr-defined]
    assert order.status is OrderStatus.CONFIRMED


async def engine_orders(desk: Desk) -> list[object]:
    listed = await desk.engine.orders_page(limit=10)
    return [await desk.engine.order(order.id) for order in listed]


def test_a_burst_the_account_cannot_cover_stops_with_one_line(desk: Desk) -> None:
    desk.run(desk.engine.reset_account("USDC=1"))
    desk.run(desk.window.desk_actions.burst_or_say_why(20))
    message = desk.window.statusBar().currentMessage()
    assert message == "The account cannot cover 20 orders on any pair: fewer orders, or Account → Reset… for more."
    assert desk.run(desk.engine.counts_by_status()) == {}
