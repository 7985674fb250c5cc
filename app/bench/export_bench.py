"""`dexdesk bench export`: CSV rows/s for a database of N orders, through the product's own export.

The database is filled through the storage layer in big batches (finished orders with a short
log), which takes a fraction of running them; then `engine.reporting.reports.export_csv` writes the report
exactly as `dexdesk export` and the desk do, and only that is timed. Meanwhile a probe task asks
the loop for a 5 ms sleep over and over: how late it wakes is how long the desk's loop stalled
(`loop_stall_max_ms`), the hitch a trader would feel while exporting.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from app.bench.databases import filled_store
from app.bench.report import emit, percentile
from engine.reporting.reports import export_csv
from engine.storage import OrderStore

PROBE_S = 0.005


async def _export_with_probe(store: OrderStore, target: Path) -> tuple[int, float, list[float]]:
    stalls: list[float] = []
    exporting = True

    async def probe() -> None:
        while exporting:
            started = time.perf_counter()
            await asyncio.sleep(PROBE_S)
            stalls.append(max(0.0, time.perf_counter() - started - PROBE_S))

    prober = asyncio.ensure_future(probe())
    await asyncio.sleep(0)  # the probe is waiting before the export starts
    t0 = time.perf_counter()
    try:
        rows = await export_csv(store, target)
    finally:
        export_s = time.perf_counter() - t0
        exporting = False
        await prober
    return rows, export_s, stalls


async def measure(db_url: str | None, count: int) -> dict[str, Any]:
    async with filled_store(db_url, count) as (store, fill_s):
        with tempfile.TemporaryDirectory(prefix="dexdesk-bench-") as folder:
            target = Path(folder) / "report.csv"
            rows, export_s, stalls = await _export_with_probe(store, target)
            size_mb = target.stat().st_size / 2**20
    return {
        "orders": count,
        "rows": rows,
        "rows_per_s": rows / export_s,
        "export_s": export_s,
        "file_mb": size_mb,
        "fill_s": fill_s,
        "loop_stall_p99_ms": percentile(stalls, 0.99) * 1000,
        "loop_stall_max_ms": max(stalls, default=0.0) * 1000,
    }


def main(args: argparse.Namespace) -> int:
    result = asyncio.run(measure(getattr(args, "db_url", None), args.orders))
    rows = [
        ("orders in the database", f"{result['orders']:,} (stored in {result['fill_s']:.1f} s)"),
        ("CSV rows/s", f"{result['rows_per_s']:,.0f}"),
        ("export time", f"{result['export_s']:.2f} s for {result['file_mb']:.1f} MB"),
        ("loop stall p99 / max", f"{result['loop_stall_p99_ms']:.1f} / {result['loop_stall_max_ms']:.1f} ms"),
    ]
    emit("dexdesk bench export", result, rows, as_json=args.json)
    return 0
