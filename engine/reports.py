"""CSV reports: docs/contract.md's 12 columns, then four added at the end, RFC 4180 quoting.

The contract's columns keep their names and order (scripts read them by position); the added
ones are `quotedPrice`, `slippageBps` (positive = worse than quoted), `notional` and `fee` (both in
the pair's QUOTE token), filled for CONFIRMED orders. The file is UTF-8 with a BOM by default, so
Excel reads accents and "…" right; `bom=False` writes plain UTF-8 for LibreOffice (whose "plain"
import shows a BOM as "ï»¿id" in A1) and for scripts. See docs/csv.md for the import settings.

Rows are streamed from storage in chunks and written to a temporary file that replaces the
target only when complete, so a large export never holds the database in memory and a failed
one never leaves half a report behind.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any, TextIO

from engine.domain import Direction, Order, OrderStatus, format_timestamp
from engine.execution_figures import fee_paid, notional, slippage_bps
from engine.jsonfmt import dumps, format_decimal
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
_PLACES = Decimal("0.00000001")
ADDED_COLUMNS = ("quotedPrice", "slippageBps", "notional", "fee")
HEADER = (*COLUMNS, *ADDED_COLUMNS)


def _decimal(value: Decimal | None) -> str:
    return format_decimal(value) if value is not None else ""


def added_cells(
    status: str,
    direction: str,
    amount: Decimal | str,
    dex: str | None,
    executed: Decimal | str | None,
    route: str | None,
) -> tuple[str, str, str, str]:
    """The four added columns, from the stored fields; empty unless the order was CONFIRMED."""
    if status != OrderStatus.CONFIRMED or not executed or not route:
        return ("", "", "", "")
    quoted_text = json.loads(route).get("quotedPrice")
    side = Direction(direction)
    price = Decimal(executed)
    quoted = Decimal(quoted_text) if quoted_text else None
    moved = notional(Decimal(amount), price)
    fee = fee_paid(dex, side, moved)
    slip = slippage_bps(side, quoted, price)
    return (
        _decimal(quoted),
        _decimal(slip),
        _decimal(_cents(moved)),
        _decimal(_cents(fee)),
    )


def _cents(value: Decimal | None) -> Decimal | None:
    """Notional and fee to 8 places: exact enough for any QUOTE token, short enough to read."""
    return None if value is None else value.quantize(_PLACES, ROUND_HALF_EVEN)


def csv_row(order: Order) -> list[str]:
    route = dumps(order.route.to_json()) if order.route else None
    added = added_cells(
        str(order.status),
        str(order.direction),
        order.amount,
        str(order.dex) if order.dex else None,
        order.execution_price,
        route,
    )
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
        *added,
    ]


class CsvReport:
    """A report being written: rows go to a hidden partial file that becomes `path` on success."""

    def __init__(self, path: Path, *, bom: bool = True) -> None:
        self.path = Path(path)
        self.rows = 0
        self._encoding = "utf-8-sig" if bom else "utf-8"
        self._partial = self.path.with_name(f".{self.path.name}.partial")
        self._handle: TextIO | None = None

    def __enter__(self) -> CsvReport:
        self._handle = self._partial.open("w", encoding=self._encoding, newline="")
        self._writer = csv.writer(self._handle, lineterminator="\r\n")
        self._writer.writerow(HEADER)
        return self

    def add(self, orders: Iterable[Order]) -> None:
        for order in orders:
            self._writer.writerow(csv_row(order))
            self.rows += 1

    def add_cells(self, rows: list[tuple[Any, ...]]) -> None:
        """Rows of the contract's 12 cells followed by the stored route (None is written as an empty cell).

        The added columns are computed only for CONFIRMED rows; every other row gets four empty cells.
        """
        empty = ("", "", "", "")
        confirmed = str(OrderStatus.CONFIRMED)
        self._writer.writerows(
            (
                *row[:12],
                *(added_cells(row[6], row[4], row[5], row[7], row[8], row[12]) if row[6] == confirmed else empty),
            )
            for row in rows
        )
        self.rows += len(rows)

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        assert self._handle is not None
        self._handle.close()
        if kind is None:
            os.replace(self._partial, self.path)
        else:
            self._partial.unlink(missing_ok=True)


def write_csv(path: Path, orders: Iterable[Order], *, bom: bool = True) -> int:
    """Write given orders (what a board shows) as a report; returns the number of rows."""
    with CsvReport(path, bom=bom) as report:
        report.add(orders)
    return report.rows


async def export_csv(
    store: OrderStore,
    path: Path,
    *,
    status: OrderStatus | None = None,
    pair: str | None = None,
    progress: Callable[[int], None] | None = None,
    bom: bool = True,
) -> int:
    """Stream every matching order from storage into a report, oldest first, in chunks."""
    with CsvReport(path, bom=bom) as report:
        async for chunk in store.stream_report(status=status, pair=pair):
            report.add_cells(chunk)
            if progress:
                progress(report.rows)
    return report.rows
