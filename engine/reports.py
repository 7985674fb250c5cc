"""CSV reports: docs/contract.md's columns, UTF-8 with a BOM so spreadsheets read it right, RFC 4180 quoting.

Rows are streamed from storage in chunks and written to a temporary file that replaces the
target only when complete, so a large export never holds the database in memory and a failed
one never leaves half a report behind.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from engine.domain import Order, OrderStatus, format_timestamp
from engine.jsonfmt import format_decimal
from engine.storage import OrderStore

COLUMNS = (
    "id",
    "createdAt",
    "updatedAt",
    "pair",
    "direction",
    "amount",
    "status",
    "dex",
    "executionPrice",
    "txHash",
    "attempts",
    "error",
)


def _decimal(value: Decimal | None) -> str:
    return format_decimal(value) if value is not None else ""


def csv_row(order: Order) -> list[str]:
    return [
        order.id,
        format_timestamp(order.created_at),
        format_timestamp(order.updated_at),
        order.pair,
        str(order.direction),
        _decimal(order.amount),
        str(order.status),
        str(order.dex) if order.dex else "",
        _decimal(order.execution_price),
        order.tx_hash or "",
        str(order.attempts),
        order.error or "",
    ]


class CsvReport:
    """A report being written: rows go to a hidden partial file that becomes `path` on success."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.rows = 0
        self._partial = self.path.with_name(f".{self.path.name}.partial")
        self._handle: TextIO | None = None

    def __enter__(self) -> CsvReport:
        self._handle = self._partial.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._handle, lineterminator="\r\n")
        self._writer.writerow(COLUMNS)
        return self

    def add(self, orders: Iterable[Order]) -> None:
        for order in orders:
            self._writer.writerow(csv_row(order))
            self.rows += 1

    def add_cells(self, rows: list[tuple[Any, ...]]) -> None:
        """Rows that are already the report's cells (None is written as an empty cell, as `csv_row` does)."""
        self._writer.writerows(rows)
        self.rows += len(rows)

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        assert self._handle is not None
        self._handle.close()
        if kind is None:
            os.replace(self._partial, self.path)
        else:
            self._partial.unlink(missing_ok=True)


def write_csv(path: Path, orders: Iterable[Order]) -> int:
    """Write given orders (what a board shows) as a report; returns the number of rows."""
    with CsvReport(path) as report:
        report.add(orders)
    return report.rows


async def export_csv(
    store: OrderStore,
    path: Path,
    *,
    status: OrderStatus | None = None,
    pair: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Stream every matching order from storage into a report, oldest first, in chunks."""
    with CsvReport(path) as report:
        async for chunk in store.stream_report(status=status, pair=pair):
            report.add_cells(chunk)
            if progress:
                progress(report.rows)
    return report.rows
