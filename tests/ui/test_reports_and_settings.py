"""Exports write what the board shows; settings and layout survive a restart of the window."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from engine.config.settings import resolve
from engine.reporting.reports import COLUMNS
from tests.ui.conftest import Desk, quiet_settings
from ui.board.model import Column


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "a BOM, so spreadsheets read UTF-8"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ())[: len(COLUMNS)] == COLUMNS
        return list(reader)


def test_export_writes_the_rows_the_board_shows(desk: Desk, tmp_path: Path) -> None:
    for pair, amount in [("SOL-USDC", "1"), ("JUP-USDC", "100"), ("SOL-USDC", "2"), ("ETH-USDC", "0.1")]:
        desk.run(desk.engine.submit(pair, amount, "BUY"))
    desk.wait_idle()
    board = desk.window.board
    board.filters.pair.setCurrentIndex(board.filters.pair.findText("SOL-USDC"))

    shown = [order.id for order in board.visible_orders()]
    assert len(shown) == 2
    rows = desk.run(desk.window.desk_actions.export_visible_to(tmp_path / "board.csv"))
    exported = read_csv(tmp_path / "board.csv")
    assert rows == 2
    assert [row["id"] for row in exported] == shown
    assert {row["pair"] for row in exported} == {"SOL-USDC"}
    assert all(row["status"] == "CONFIRMED" and len(row["txHash"]) >= 87 for row in exported)

    everything = desk.run(desk.window.desk_actions.export_all_to(tmp_path / "all.csv"))
    assert everything == 4
    assert len(read_csv(tmp_path / "all.csv")) == 4


def test_settings_and_layout_persist_across_a_restart(open_desk: Any, sqlite_url: str) -> None:
    first: Desk = open_desk(quiet_settings(sqlite_url))
    dialog = first.window.settings_flow.open()
    dialog.concurrency.setValue(4)
    dialog.slippage.setValue(2.5)
    dialog.failure_rate.setValue(12)
    dialog.accept()
    assert first.engine.settings.queue.concurrency == 4  # applied live
    assert first.engine.settings.router.failure_rate == 0.12
    first.window.status.refresh()
    assert first.window.status.in_flight.text().endswith("/4")

    board = first.window.board
    board.filters.pair.setCurrentIndex(board.filters.pair.findText("JUP-USDC"))
    board.search.setText("jup")
    board.table.horizontalHeader().resizeSection(Column.PAIR.index, 170)
    first.close()

    saved = resolve({})
    assert (saved.concurrency, str(saved.slippage_tolerance), saved.failure_rate) == (4, "0.025", 0.12)
    second: Desk = open_desk(saved)
    assert second.engine.settings.queue.concurrency == 4
    again = second.window.settings_flow.open()
    assert again.concurrency.value() == 4
    assert again.slippage.value() == 2.5
    again.reject()
    board = second.window.board
    assert board.filters.pair.currentText() == "JUP-USDC"
    assert board.search.text() == "jup"
    assert board.table.horizontalHeader().sectionSize(Column.PAIR.index) == 170

    second.window.restore_default_layout()
    assert board.filters.pair.currentText() == "All"
    assert board.table.horizontalHeader().sectionSize(Column.PAIR.index) == Column.PAIR.value.width


def test_a_bad_setting_is_refused_in_the_dialog(desk: Desk) -> None:
    dialog = desk.window.settings_flow.open()
    dialog.redis_url.setText("http://not-redis")
    dialog.accept()
    assert dialog.isVisible()
    assert dialog.error.text().startswith("redis_url: must start with redis://")
    assert desk.window.settings.redis_url is None


def test_every_number_in_the_settings_dialog_is_readable(desk: Desk) -> None:
    """Each spin box's editor is wide enough to show its whole value (Fusion once drew them 1 px wide)."""
    dialog = desk.window.settings_flow.open()
    for spin in (dialog.time_scale, dialog.concurrency, dialog.rate_limit, dialog.slippage, dialog.failure_rate):
        editor = spin.lineEdit()
        assert editor.width() >= editor.fontMetrics().horizontalAdvance(spin.text()), spin.text()
    dialog.reject()
