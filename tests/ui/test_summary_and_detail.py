"""The summary tells the truth and stays live; the detail view gives the figures a trader asks for."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from engine.model.domain import OrderStatus
from engine.reporting.reports import ADDED_COLUMNS, COLUMNS, OUTCOME_COLUMN
from tests.ui.conftest import Desk, quiet_settings
from ui.formatting import share_text


@pytest.mark.parametrize(
    ("part", "whole", "shown"),
    [
        (8211, 8212, "99.99 %"),
        (1, 100_000, "0.001 %"),
        (99_999, 100_000, "99.999 %"),
        (1, 2, "50.0 %"),
        (7, 7, "100 %"),
        (0, 7, "0 %"),
        (0, 0, "—"),
    ],
)
def test_a_share_never_rounds_a_difference_away(part: int, whole: int, shown: str) -> None:
    assert share_text(part, whole) == shown


def test_the_summary_covers_the_database_and_updates_while_open(desk: Desk) -> None:
    for amount in ("1", "2", "3"):
        desk.run(desk.engine.submit("SOL-USDC", amount, "BUY"))
    desk.run(desk.engine.submit("SOL-USDC", "1", "SELL"))
    desk.wait_idle()
    window = desk.window
    summary = window.order_windows.open_summary()
    desk.qtbot.waitUntil(lambda: summary.refreshes >= 1, timeout=5000)

    table = summary.pair_table
    assert table.item(0, 0).text() == "SOL-USDC"
    assert table.item(0, 1).text() == "4"
    assert table.item(0, 2).text() == "4"
    assert table.item(0, 5).text() == "100 %"
    assert table.item(0, 6).text() == "7.0000 SOL"
    assert table.item(0, 7).text().endswith(" USDC")
    assert table.item(0, 8).text().endswith(" USDC")
    assert table.item(0, 8).text() != "0.00 USDC", "sold apart from bought"
    assert "bps" in table.item(0, 11).text() or table.item(0, 11).text() == "as quoted"
    assert "Covers every order stored in the database." in summary.scope.text()
    venues = [summary.venue_table.item(row, 0).text() for row in range(summary.venue_table.rowCount())]
    assert set(venues) <= {"raydium", "meteora"}
    assert all(summary.venue_table.item(row, 5).text() != "—" for row in range(len(venues)))

    # Live: a new order shows up in the open dialog without reopening it.
    seen = summary.refreshes
    desk.run(desk.engine.submit("JUP-USDC", "100", "BUY"))
    desk.wait_idle()
    desk.qtbot.waitUntil(
        lambda: summary.refreshes > seen and "<b>5</b> orders" in summary.headline.text(), timeout=5000
    )

    # A filtered board is named: the summary still covers everything.
    window.board.filters.pair.setCurrentIndex(window.board.filters.pair.findText("JUP-USDC"))
    window.board.apply_search_now()
    summary.orders_changed()
    desk.qtbot.waitUntil(lambda: "filter is not applied (the board shows 1 of 5)" in summary.scope.text(), timeout=5000)


def test_the_detail_gives_executed_vs_quoted_notional_fee_and_every_signature(open_desk: Any, sqlite_url: str) -> None:
    desk: Desk = open_desk(quiet_settings(sqlite_url, failure_rate=0.5, seed=3))
    orders = [desk.run(desk.engine.submit("SOL-USDC", "4", "BUY")) for _ in range(6)]
    desk.wait_idle()
    stored = [desk.run(desk.engine.order(order.id)) for order in orders]
    retried = next(o for o in stored if o is not None and o.status is OrderStatus.CONFIRMED and o.attempts > 1)
    dialog = desk.window.order_windows.open_detail(retried.id)
    assert dialog is not None
    desk.qtbot.waitUntil(lambda: dialog.attempt_table.rowCount() == retried.attempts, timeout=5000)

    facts = dialog.facts
    assert facts["Execution price"].text().endswith(" USDC")
    assert facts["Sent at"].text().endswith(" USDC")
    assert facts["Slippage"].text().endswith(("bps worse", "bps better")) or facts["Slippage"].text() == "as quoted"
    assert facts["Notional"].text().endswith(" USDC")
    assert facts["Fee"].text().endswith(" USDC")
    assert facts["Tx hash"].text() == retried.tx_hash, "the full hash, never an elided one"

    executed = [dialog.attempt_table.item(row, 4).text() for row in range(dialog.attempt_table.rowCount())]
    assert executed[-1], "the confirmed attempt shows its executed price"
    signatures = dialog.signatures.text().splitlines()
    assert len(signatures) == retried.attempts
    assert all(len(line.split()[-1]) >= 86 for line in signatures), "full 87-88 character signatures"
    assert retried.tx_hash in signatures[-1]

    assert not dialog.cancel_button.isEnabled(), "a CONFIRMED order cannot be cancelled"


def test_the_cancel_button_says_a_submitted_swap_cannot_be_recalled(open_desk: Any, sqlite_url: str) -> None:
    desk: Desk = open_desk(quiet_settings(sqlite_url, rate_limit=1))
    desk.run(desk.engine.submit("SOL-USDC", "1", "BUY"))
    waiting = desk.run(desk.engine.submit("SOL-USDC", "2", "BUY"))  # the rate limit holds it PENDING
    desk.window.bridge.flush()
    dialog = desk.window.order_windows.open_detail(waiting.id)
    assert dialog is not None
    assert dialog.order.status is OrderStatus.PENDING
    assert dialog.cancel_button.isEnabled()
    assert dialog.cancel_note.text() == "Can still be cancelled: its swap has not been sent"

    sent = dialog.order.evolve(status=OrderStatus.SUBMITTED, logs=(*dialog.order.logs,))
    dialog.update_order(sent)
    assert not dialog.cancel_button.isEnabled()
    assert dialog.cancel_note.text() == "Sent: a SUBMITTED swap cannot be recalled"


def test_exports_add_columns_at_the_end_and_offer_plain_utf8(desk: Desk, tmp_path: Path) -> None:
    desk.run(desk.engine.submit("SOL-USDC", "2", "BUY"))
    desk.wait_idle()
    plain = tmp_path / "plain.csv"
    assert desk.run(desk.window.desk_actions.export_all_to(plain, bom=False)) == 1
    raw = plain.read_bytes()
    assert raw.startswith(b"id,createdAt,"), "no BOM: LibreOffice shows 'id' in A1"
    with plain.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == (*COLUMNS, *ADDED_COLUMNS, OUTCOME_COLUMN)
        row = next(reader)
    assert row["quotedPrice"]
    assert row["slippageBps"]
    assert float(row["notional"]) == pytest.approx(2 * float(row["executionPrice"]), rel=1e-9)
    assert 0 < float(row["fee"]) < float(row["notional"]) * 0.01

    visible = tmp_path / "visible.csv"
    assert desk.run(desk.window.desk_actions.export_visible_to(visible, bom=False)) == 1
    assert visible.read_bytes().startswith(b"id,")
