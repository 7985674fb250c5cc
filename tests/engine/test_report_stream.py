"""The CSV export reads stored cells directly; the file must be exactly what the Order-based writer makes."""

from __future__ import annotations

import csv
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from app.bench.databases import finished_orders
from engine.model.domain import OrderStatus
from engine.model.validation import validate_order
from engine.reporting.reports import HEADER, CsvReport, export_csv, write_csv
from engine.runtime.engine import engine_settings
from engine.storage import OrderStore
from tests.conftest import running


async def test_streamed_export_matches_the_order_based_report(db_url: str, tmp_path: Path) -> None:
    orders = finished_orders(30, seed=3)
    # Odd cells too: no venue or price yet, an error with a comma and a quote, a tiny decimal.
    orders[1] = replace(orders[1], status=OrderStatus.PENDING, dex=None, execution_price=None, tx_hash=None, route=None)
    orders[2] = replace(orders[2], status=OrderStatus.FAILED, error='slippage 1,2% "too much"', tx_hash=None)
    orders[3] = replace(orders[3], execution_price=Decimal("0.00000012"))
    store = OrderStore(db_url)
    await store.open()
    try:
        await store.insert(orders)
        streamed = await export_csv(store, tmp_path / "streamed.csv")
        stored = [order async for chunk in store.stream() for order in chunk]
    finally:
        await store.close()
    assert streamed == len(orders) == write_csv(tmp_path / "from_orders.csv", stored)
    assert (tmp_path / "streamed.csv").read_bytes() == (tmp_path / "from_orders.csv").read_bytes()


async def test_orders_run_by_the_engine_export_the_same_figures_as_computed_from_the_orders(
    db_url: str, tmp_path: Path
) -> None:
    """The figures the report reads are stored by the write that confirms an order (the engine's path)."""
    settings = engine_settings(time_scale=0, rate_limit=0, seed=5, failure_rate=0.5)
    async with running(db_url, settings) as engine:
        requests = [
            validate_order(pair, amount, side, engine.catalog)
            for pair, amount, side in [("SOL-USDC", "1.5", "BUY"), ("JUP-SOL", "40", "SELL"), ("SOL-USDC", "2", "SELL")]
            * 10
        ]
        await engine.submit_many(requests)
        await engine.wait_idle()
        streamed = await export_csv(engine.store, tmp_path / "streamed.csv")
        stored = [order async for chunk in engine.store.stream() for order in chunk]
    statuses = {order.status for order in stored}
    assert {OrderStatus.CONFIRMED, OrderStatus.FAILED} <= statuses, "the seed makes some fail, so errors are written"
    assert streamed == len(stored) == write_csv(tmp_path / "from_orders.csv", stored)
    assert (tmp_path / "streamed.csv").read_bytes() == (tmp_path / "from_orders.csv").read_bytes()
    confirmed_lines = [line for line in (tmp_path / "streamed.csv").read_text().splitlines() if ",CONFIRMED," in line]
    assert confirmed_lines
    assert all(not line.endswith(",,,,") for line in confirmed_lines)


async def test_cells_that_need_quoting_are_quoted_as_csv_writer_does(tmp_path: Path) -> None:
    # Plain rows around odd ones: a comma, a quote, line breaks, an empty cell, a None.
    rows = [[str(index)] * len(HEADER) for index in range(5)]
    rows[1][11] = "a, b"
    rows[2][11] = 'say "no"'
    rows[3][11] = "two\nlines\r"
    rows[4][11] = ""
    odd = [*rows, [None if index == 7 else str(index) for index in range(len(HEADER))]]
    with CsvReport(tmp_path / "fast.csv") as report:
        report.add_cells(odd[:2])
        report.add_cells([])
        report.add_cells(odd[2:])
    with (tmp_path / "plain.csv").open("w", encoding="utf-8-sig", newline="") as plain:
        writer = csv.writer(plain, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows([*row, ""] for row in odd)  # the outcome, read from status and error
    assert report.rows == len(odd)
    assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "plain.csv").read_bytes()
