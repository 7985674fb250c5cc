"""`dexdesk bench summary`: how long the desk's Summary takes to count a database of N orders.

The database is filled as for the export bench; then `Engine.summary()` (SQL aggregates, the
same call the Summary dialog makes every second while open) is timed: the first count, which
reads every order once, and the refreshes after it, which read only orders that may still
change. The target is 100 ms at 100,000 orders.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from app.bench.databases import filled_store
from app.bench.report import emit
from engine.runtime.engine import Engine, engine_settings

RUNS = 7


async def measure(db_url: str | None, count: int) -> dict[str, Any]:
    async with filled_store(db_url, count) as (store, fill_s):
        engine = Engine(store, engine_settings(time_scale=0, rate_limit=0))
        timings = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            summary = await engine.summary()
            timings.append(time.perf_counter() - t0)
    return {
        "orders": count,
        "counted": summary.total.orders,
        "first_ms": timings[0] * 1000,
        "median_ms": statistics.median(timings[1:]) * 1000,
        "worst_ms": max(timings[1:]) * 1000,
        "fill_s": fill_s,
    }


def main(args: argparse.Namespace) -> int:
    result = asyncio.run(measure(getattr(args, "db_url", None), args.orders))
    rows = [
        ("orders in the database", f"{result['orders']:,} (stored in {result['fill_s']:.1f} s)"),
        ("first count (opening the Summary)", f"{result['first_ms']:.0f} ms"),
        (
            "live refresh while open",
            f"median {result['median_ms']:.1f} ms, worst {result['worst_ms']:.1f} ms ({RUNS - 1} runs)",
        ),
        ("orders counted", f"{result['counted']:,}"),
    ]
    emit("dexdesk bench summary", result, rows, as_json=args.json)
    return 0
