"""The CSV export reads stored cells directly; the file must be exactly what the Order-based writer makes."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from app.bench.databases import finished_orders
from engine.domain import OrderStatus
from engine.reports import export_csv, write_csv
from engine.storage import OrderStore


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
