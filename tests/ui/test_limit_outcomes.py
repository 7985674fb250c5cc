"""Limit orders as traders know them: a countdown while waiting; expiry and cancel as their own, neutral outcome."""

from __future__ import annotations

import csv
from pathlib import Path

from engine.model.domain import OrderStatus
from engine.model.outcomes import EXPIRED
from engine.reporting.reports import HEADER, export_csv
from tests.ui.conftest import Desk
from ui.board.columns import Column
from ui.theme import ERROR_TEXT, MUTED_TEXT, NEUTRAL_END_COLOR, STATUS_COLORS


def _cell(desk: Desk, order_id: str, column: Column) -> str:
    model = desk.window.board.model
    order = model.get(order_id)
    assert order is not None
    return column.spec.display(order, model.context)


def test_waiting_expired_and_cancelled_limits_read_as_traders_expect(desk: Desk, tmp_path: Path) -> None:
    engine = desk.engine
    waiting = desk.run(engine.submit("SOL-USDC", "2", "BUY", order_type="limit", limit_price="1", expires_in="3600"))
    doomed = desk.run(engine.submit("SOL-USDC", "1", "BUY", order_type="limit", limit_price="1", expires_in="0.5"))
    cancelled = desk.run(engine.submit("SOL-USDC", "3", "SELL", order_type="limit", limit_price="100000"))
    desk.window.bridge.flush()
    assert _cell(desk, waiting.id, Column.STATUS).startswith("PENDING expires in 59 m")

    assert desk.run(engine.cancel(cancelled.id)).outcome == "cancelled"
    desk.qtbot.waitUntil(lambda: desk.window.board.model.get(doomed.id).status is OrderStatus.FAILED, timeout=10_000)  # type: ignore[union-attr]
    desk.window.bridge.flush()

    # The board: expiry reads as EXPIRED, not FAILED; neither it nor a cancel is in a failure's red.
    assert _cell(desk, doomed.id, Column.STATUS) == "EXPIRED price not reached"
    assert _cell(desk, cancelled.id, Column.STATUS).startswith("CANCELLED")
    model = desk.window.board.model
    for order_id in (doomed.id, cancelled.id):
        order = model.get(order_id)
        assert order is not None
        assert Column.ERROR.spec.colour is not None
        assert Column.ERROR.spec.colour(order, model.context) == MUTED_TEXT
    assert STATUS_COLORS[OrderStatus.FAILED] != NEUTRAL_END_COLOR

    # The detail view: its outcome, type, limit, expiry and the real bound (the limit, not quote + 1 %).
    dialog = desk.window.order_windows.open_detail(doomed.id)
    assert dialog is not None
    desk.qtbot.waitUntil(lambda: dialog.order.error == EXPIRED, timeout=5000)
    assert dialog.status_chip.text() == "EXPIRED"
    assert NEUTRAL_END_COLOR.name() in dialog.status_chip.styleSheet()
    assert dialog.facts["Type"].text() == "limit"
    assert dialog.facts["Limit price"].text() == "1.0000 USDC"
    assert dialog.facts["Expires at"].text() != "—"
    assert dialog.facts["Bound"].text() == "pays at most 1.0000 USDC"
    assert ERROR_TEXT.name() not in dialog.facts["Error"].styleSheet()
    dialog.close()
    market = desk.run(engine.submit("SOL-USDC", "1", "BUY"))
    desk.run(engine.wait_terminal(market.id))
    desk.window.bridge.flush()
    dialog = desk.window.order_windows.open_detail(market.id)
    assert dialog is not None
    assert dialog.facts["Type"].text() == "market"
    assert dialog.facts["Limit price"].text() == "—"
    assert dialog.facts["Bound"].text().startswith("pays at most ")
    dialog.close()

    # The CSV: an outcome column at the end, after the contract's twelve and the four figures.
    report = tmp_path / "orders.csv"
    desk.run(export_csv(engine.store, report, bom=False))
    with report.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == list(HEADER)
    assert HEADER[-1] == "outcome"
    outcomes = {row["id"]: (row["status"], row["outcome"]) for row in rows}
    assert outcomes[doomed.id] == ("FAILED", "expired")
    assert outcomes[cancelled.id] == ("CANCELLED", "cancelled")
    assert outcomes[waiting.id] == ("PENDING", "")
    assert outcomes[market.id] == ("CONFIRMED", "filled")
