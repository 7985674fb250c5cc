"""`dexdesk bench export`: CSV rows/s for a database of N orders, through the product's own export.

The database is filled through the storage layer in big batches (finished orders with a short
log), which takes a fraction of running them; then `engine.reports.export_csv` writes the report
exactly as `dexdesk export` does, and only that is timed.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from app.bench.databases import fill, scratch_database
from app.bench.report import emit
from engine.reports import export_csv
from engine.storage import OrderStore


async def measure(db_url: str | None, count: int) -> dict[str, Any]:
    async with scratch_database(db_url) as url:
        store = OrderStore(url)
        await store.open()
        try:
            t0 = time.perf_counter()
            await fill(store, count)
            fill_s = time.perf_counter() - t0
            with tempfile.TemporaryDirectory(prefix="dexdesk-bench-") as folder:
                target = Path(folder) / "report.csv"
                t0 = time.perf_counter()
                rows = await export_csv(store, target)
                export_s = time.perf_counter() - t0
                size_mb = target.stat().st_size / 2**20
        finally:
            await store.close()
    return {
        "orders": count,
        "rows": rows,
        "rows_per_s": rows / export_s,
        "export_s": export_s,
        "file_mb": size_mb,
        "fill_s": fill_s,
    }


def main(args: argparse.Namespace) -> int:
    result = asyncio.run(measure(getattr(args, "db_url", None), args.orders))
    rows = [
        ("orders in the database", f"{result['orders']:,} (stored in {result['fill_s']:.1f} s)"),
        ("CSV rows/s", f"{result['rows_per_s']:,.0f}"),
        ("export time", f"{result['export_s']:.2f} s for {result['file_mb']:.1f} MB"),
    ]
    emit("dexdesk bench export", result, rows, as_json=args.json)
    return 0
