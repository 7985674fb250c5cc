"""The order detail: timeline, both quotes, every attempt, and it stays live."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QGuiApplication

from engine.model.domain import OrderStatus
from tests.ui.conftest import Desk, quiet_settings


def column_texts(table: Any, column: int) -> list[str]:
    return [table.item(row, column).text() if table.item(row, column) else "" for row in range(table.rowCount())]


def test_a_retried_order_shows_both_quotes_and_every_attempt(open_desk: Any, sqlite_url: str) -> None:
    desk: Desk = open_desk(quiet_settings(sqlite_url, failure_rate=1.0))
    order = desk.run(desk.engine.submit("SOL-USDC", "12", "SELL"))
    desk.wait_idle()
    assert desk.window.board.model.get(order.id).status is OrderStatus.FAILED  # type: ignore[union-attr]

    dialog = desk.window.order_windows.open_detail(order.id)
    assert dialog is not None
    desk.qtbot.waitUntil(lambda: dialog.attempt_table.rowCount() == 3, timeout=5000)

    assert column_texts(dialog.attempt_table, 0) == ["1", "2", "3"]
    assert column_texts(dialog.attempt_table, 6) == ["failed, retried", "failed, retried", "failed, final"]
    assert column_texts(dialog.attempt_table, 7) == ["2 s", "4 s", ""]
    assert all(column_texts(dialog.attempt_table, 8)), "every attempt names its error"
    assert all(column_texts(dialog.attempt_table, 2)), "every attempt names its venue"

    quote_columns = [dialog.quotes.horizontalHeaderItem(column).text() for column in (1, 2)]
    assert quote_columns == ["raydium", "meteora"]
    assert column_texts(dialog.quotes, 0)[:5] == [
        "Pool price",
        "Fee",
        "Price impact",
        "Effective price",
        "Min received",
    ]
    assert all(column_texts(dialog.quotes, 1)[:5])
    assert all(column_texts(dialog.quotes, 2)[:5])
    assert any("★ +" in text for text in column_texts(dialog.quotes, 1) + column_texts(dialog.quotes, 2))
    assert "bps" in dialog.quote_verdict.text()
    assert [dialog.quote_attempt.itemText(i) for i in range(3)] == ["attempt 1", "attempt 2", "attempt 3"]

    states = column_texts(dialog.timeline, 0)
    assert states[0] == "PENDING"
    assert states[-1] == "FAILED"
    assert states.count("ROUTING") == 3
    assert dialog.facts["Error"].text() != "—"
    assert not dialog.copy_hash.isEnabled()


def test_the_detail_follows_a_running_order_to_confirmed(desk: Desk) -> None:
    order = desk.run(desk.engine.submit("ETH-USDC", "0.25", "BUY"))
    desk.window.bridge.flush()
    dialog = desk.window.order_windows.open_detail(order.id)
    assert dialog is not None
    desk.wait_idle()

    desk.qtbot.waitUntil(lambda: dialog.order.status is OrderStatus.CONFIRMED, timeout=5000)
    desk.qtbot.waitUntil(lambda: column_texts(dialog.timeline, 0)[-1:] == ["CONFIRMED"], timeout=5000)
    assert column_texts(dialog.timeline, 0)[:4] == ["PENDING", "ROUTING", "BUILDING", "SUBMITTED"]
    assert dialog.facts["Tx hash"].toolTip() == dialog.order.tx_hash
    assert dialog.facts["Tx hash"].text().startswith(dialog.order.tx_hash[:14])
    assert dialog.copy_hash.isEnabled()
    dialog.copy_hash.click()
    assert QGuiApplication.clipboard().text() == dialog.order.tx_hash
    assert dialog.facts["Execution price"].text().endswith("USDC")
    assert desk.window.order_windows.open_detail(order.id) is dialog  # one dialog per order
