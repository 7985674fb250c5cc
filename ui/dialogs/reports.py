"""Reports: CSV exports (everything stored, or what the board shows) and the summary view.

Exports never block the loop: "all orders" streams from storage in chunks with a progress dialog;
"what the board shows" writes the board's immutable snapshots from a worker thread.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QProgressDialog, QTableWidget, QVBoxLayout, QWidget

from engine.domain import Order, OrderStatus
from engine.engine import Engine
from engine.pairs import PairCatalog
from engine.reports import write_csv
from ui.formatting import PairFormats
from ui.tables import cell, read_only_table, section_title


async def export_all(engine: Engine, path: Path, parent: QWidget | None) -> int:
    """Every stored order, oldest first, with a progress dialog that counts rows as they are written."""
    counts = await engine.counts_by_status()
    total = sum(counts.values())
    progress = QProgressDialog("Exporting orders…", "", 0, max(total, 1), parent)
    progress.setWindowTitle("Export CSV")
    progress.setCancelButton(None)
    progress.setMinimumDuration(300)
    progress.setWindowModality(Qt.WindowModality.WindowModal)
    try:
        return await engine.export_csv(path, progress=lambda rows: progress.setValue(min(rows, total)))
    finally:
        progress.reset()
        progress.deleteLater()


async def export_visible(orders: list[Order], path: Path, parent: QWidget | None) -> int:
    """The rows the board shows, top to bottom, written off the loop (snapshots are immutable)."""
    progress = QProgressDialog("Exporting the board…", "", 0, 0, parent)
    progress.setWindowTitle("Export CSV")
    progress.setCancelButton(None)
    progress.setMinimumDuration(300)
    try:
        return await asyncio.get_running_loop().run_in_executor(None, write_csv, path, orders)
    finally:
        progress.reset()
        progress.deleteLater()


@dataclass(slots=True)
class PairSummary:
    orders: int = 0
    confirmed: int = 0
    failed: int = 0
    volume: Decimal = Decimal(0)  # BASE units, confirmed orders
    notional: Decimal = Decimal(0)  # QUOTE units, confirmed orders at execution price
    venues: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def average_price(self) -> Decimal | None:
        return self.notional / self.volume if self.volume else None

    @property
    def success_rate(self) -> float | None:
        finished = self.confirmed + self.failed
        return self.confirmed / finished if finished else None


def summarize(orders: Iterable[Order]) -> tuple[dict[str, PairSummary], dict[str, PairSummary], PairSummary]:
    """Per pair, per venue (of confirmed orders) and overall, in one pass."""
    pairs: dict[str, PairSummary] = defaultdict(PairSummary)
    venues: dict[str, PairSummary] = defaultdict(PairSummary)
    total = PairSummary()
    for order in orders:
        summary = pairs[order.pair]
        for bucket in (summary, total):
            bucket.orders += 1
            if order.status is OrderStatus.CONFIRMED:
                bucket.confirmed += 1
                bucket.volume += order.amount
                bucket.notional += order.amount * (order.execution_price or 0)
            elif order.status is OrderStatus.FAILED:
                bucket.failed += 1
        if order.dex is not None and order.status is OrderStatus.CONFIRMED:
            venue = venues[str(order.dex)]
            venue.orders += 1
            venue.confirmed += 1
            venue.venues[order.pair] += 1
    return dict(pairs), dict(venues), total


class SummaryDialog(QDialog):
    def __init__(self, orders: Iterable[Order], catalog: PairCatalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Summary")
        self.resize(900, 560)
        formats = PairFormats(catalog)
        pairs, venues, total = summarize(orders)
        rate = total.success_rate
        headline = QLabel(
            f"<b>{total.orders:,}</b> orders · <b>{total.confirmed:,}</b> confirmed · "
            f"<b>{total.failed:,}</b> failed · success rate <b>{'—' if rate is None else f'{rate * 100:.1f} %'}</b>"
        )
        self.pair_table = read_only_table(
            ["Pair", "Orders", "Confirmed", "Failed", "Success", "Volume", "Avg exec. price"]
        )
        ordered = [name for name in catalog.names if name in pairs] + sorted(set(pairs) - set(catalog.names))
        self.pair_table.setRowCount(len(ordered))
        for row, name in enumerate(ordered):
            summary = pairs[name]
            spec = catalog.get(name)
            success = summary.success_rate
            average = summary.average_price
            cells = [
                cell(name),
                cell(f"{summary.orders:,}", right=True),
                cell(f"{summary.confirmed:,}", right=True),
                cell(f"{summary.failed:,}", right=True),
                cell("—" if success is None else f"{success * 100:.1f} %", right=True),
                cell(f"{formats.amount(name, summary.volume)} {spec.base if spec else ''}", right=True),
                cell(
                    "—" if average is None else f"{formats.price(name, average)} {spec.quote if spec else ''}",
                    right=True,
                ),
            ]
            for column, item in enumerate(cells):
                self.pair_table.setItem(row, column, item)
        self.venue_table = self._venue_table(venues, total)
        layout = QVBoxLayout(self)
        layout.addWidget(headline)
        layout.addWidget(section_title("Per pair"))
        layout.addWidget(self.pair_table, 3)
        layout.addWidget(section_title("Per venue (confirmed orders)"))
        layout.addWidget(self.venue_table, 1)

    @staticmethod
    def _venue_table(venues: dict[str, PairSummary], total: PairSummary) -> QTableWidget:
        table = read_only_table(["Venue", "Confirmed", "Share", "Most used for"], right=(1, 2))
        table.setRowCount(len(venues))
        for row, (name, summary) in enumerate(sorted(venues.items())):
            share = summary.confirmed / total.confirmed if total.confirmed else 0
            top = sorted(summary.venues.items(), key=lambda item: -item[1])[:3]
            cells = [
                cell(name),
                cell(f"{summary.confirmed:,}", right=True),
                cell(f"{share * 100:.1f} %", right=True),
                cell(", ".join(f"{pair} ({count:,})" for pair, count in top)),
            ]
            for column, item in enumerate(cells):
                table.setItem(row, column, item)
        return table
