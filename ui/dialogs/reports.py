"""CSV exports: everything stored, or what the board shows (the summary is ui/dialogs/summary.py).

Exports never block the loop: "all orders" streams from storage in chunks with a progress dialog;
"what the board shows" writes the board's immutable snapshots from a worker thread.
"""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog, QWidget

from engine.model.domain import Order
from engine.reporting.reports import write_csv
from engine.runtime.engine import Engine


async def export_all(engine: Engine, path: Path, parent: QWidget | None, *, bom: bool = True) -> int:
    """Every stored order, oldest first, with a progress dialog that counts rows as they are written."""
    counts = await engine.counts_by_status()
    total = sum(counts.values())
    progress = QProgressDialog("Exporting orders…", "", 0, max(total, 1), parent)
    progress.setWindowTitle("Export CSV")
    progress.setCancelButton(None)
    progress.setMinimumDuration(300)
    progress.setWindowModality(Qt.WindowModality.WindowModal)
    try:
        return await engine.export_csv(path, progress=lambda rows: progress.setValue(min(rows, total)), bom=bom)
    finally:
        progress.reset()
        progress.deleteLater()


async def export_visible(orders: list[Order], path: Path, parent: QWidget | None, *, bom: bool = True) -> int:
    """The rows the board shows, top to bottom, written off the loop (snapshots are immutable)."""
    progress = QProgressDialog("Exporting the board…", "", 0, 0, parent)
    progress.setWindowTitle("Export CSV")
    progress.setCancelButton(None)
    progress.setMinimumDuration(300)
    try:
        return await asyncio.get_running_loop().run_in_executor(None, partial(write_csv, path, orders, bom=bom))
    finally:
        progress.reset()
        progress.deleteLater()
