"""One slippage, named once: the same fill's number on the board, blotter, detail view, CSV and Summary."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.model.domain import Direction, OrderStatus
from engine.model.execution_figures import sent_price
from engine.reporting.reports import export_csv
from tests.ui.conftest import Desk, quiet_settings
from ui.board.columns import Column

SLIPPAGE_COLUMN = 9  # the blotter's "Slippage (bps)"


def test_a_fills_slippage_is_one_number_everywhere(open_desk: Any, sqlite_url: str, tmp_path: Path) -> None:
    # Network failures make retries, which route later than the quote the order was sent from.
    desk: Desk = open_desk(quiet_settings(sqlite_url, failure_rate=0.4, seed=21))
    engine = desk.engine
    orders = [
        desk.run(engine.submit("SOL-USDC", str(5 + index), "BUY" if index % 2 else "SELL")) for index in range(16)
    ]
    best = engine.indicative_quote("SOL-USDC", Decimal(3), Direction.BUY).chosen.effective_price
    limit = (best * Decimal("1.003")).quantize(Decimal("0.0001"))
    orders.append(desk.run(engine.submit("SOL-USDC", "3", "BUY", order_type="limit", limit_price=str(limit))))
    desk.wait_idle()
    report = tmp_path / "orders.csv"
    desk.run(export_csv(engine.store, report, bom=False))
    with report.open(encoding="utf-8", newline="") as stream:
        from_csv = {row["id"]: row["slippageBps"] for row in csv.DictReader(stream) if row["status"] == "CONFIRMED"}
    summary = desk.run(engine.summary())

    model = desk.window.board.model
    fills = desk.window.blotter.fills_model
    blotter = {fills.fills()[row].id: fills.index(row, SLIPPAGE_COLUMN).data() for row in range(fills.rowCount())}
    moved_from_route = 0
    by_venue: dict[str, list[Decimal]] = {}
    for submitted in orders:
        order = desk.run(engine.order(submitted.id))
        assert order is not None
        if order.status is not OrderStatus.CONFIRMED:
            continue
        board_order = model.get(order.id)
        assert board_order is not None
        on_board = Column.SLIPPAGE.spec.display(board_order, model.context)
        assert on_board == blotter[order.id]
        assert Decimal(on_board) == Decimal(from_csv[order.id])
        dialog = desk.window.order_windows.open_detail(order.id)
        assert dialog is not None
        desk.qtbot.waitUntil(lambda dialog=dialog: dialog.order.logs != (), timeout=5000)
        words = dialog.facts["Slippage"].text()
        bps = Decimal(on_board)
        assert words == ("as quoted" if bps == 0 else f"{abs(bps)} bps {'worse' if bps > 0 else 'better'}")
        dialog.close()
        assert order.route is not None
        moved_from_route += sent_price(order) != order.route.quoted_price
        by_venue.setdefault(str(order.dex), []).append(bps)
    assert moved_from_route >= 2, "retried and limit orders route at another price than they were sent at"
    for venue, slips in by_venue.items():
        average = summary.venues[venue].average_slippage_bps
        assert average is not None
        assert abs(average - float(sum(slips) / len(slips))) < 1e-9


def test_a_split_orders_detail_view_gives_each_leg(desk: Desk) -> None:
    order = desk.run(desk.engine.submit("SOL-USDC", "40000", "BUY"))
    desk.wait_idle()
    dialog = desk.window.order_windows.open_detail(order.id)
    assert dialog is not None
    desk.qtbot.waitUntil(lambda: dialog.order.status is OrderStatus.CONFIRMED and dialog.order.logs != (), timeout=5000)
    venue = dialog.facts["Venue"].text()
    assert venue.startswith("raydium ")
    assert " + meteora " in venue
    assert dialog.quote_verdict.text().startswith("Split raydium ")
    assert "marginal prices" in dialog.quote_verdict.text()
    fee = dialog.facts["Fee"].text()
    assert fee.endswith(" USDC")
    dialog.close()
