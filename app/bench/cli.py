"""The `dexdesk bench` parser. Each bench is imported only when run (the board bench needs Qt)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from typing import Any

from app.limits import MAX_RUN_ORDERS, ORDERS_RULE
from engine.model.exit_codes import ExitCode

BENCHES = {
    "engine": ("engine_bench", 10_000, "N orders through the full pipeline at time scale 0, and the storage ceiling"),
    "spec": ("spec_bench", 1_000, "the spec settings (10 in flight, 100/min, real delays) on a simulated clock"),
    "board": ("board_bench", 20_000, "the main window offscreen while N orders stream, and its first paint"),
    "export": ("export_bench", 100_000, "CSV rows/s for a database of N orders"),
    "api": ("api_bench", 10_000, "a real `dexdesk serve` under C clients: POST/s, WebSocket messages/s, latency"),
    "cluster": ("cluster_bench", 2_000, "orders/s with 1, 2, 4 … `dexdesk worker` processes on one queue"),
    "summary": ("summary_bench", 100_000, "the desk's Summary (SQL aggregates) over a database of N orders"),
    "window": (
        "window_bench",
        300,
        "the desk in a real X window: _NET_WM_PING round trips while a burst of N streams over stored orders",
    ),
}


EXIT_STATUS = (
    "exit status:\n  0 measured and printed\n  1 window only: no X server, window manager or xdotool, "
    "or the desk did not do what it was driven to\n  2 --orders below 1, bad settings or an unusable database"
)


def add_bench_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    add_global_options: Callable[[argparse.ArgumentParser], None],
) -> argparse.ArgumentParser:
    """Add `bench` with one sub-command per bench; their handlers take only `args` and run their own loop."""
    bench = sub.add_parser(
        "bench",
        help="measure speed: engine, spec, board, export, api, cluster, summary, window",
        description=__doc__,
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_global_options(bench)
    inner = bench.add_subparsers(dest="bench", metavar="BENCH", required=True)
    for name, (module, default, text) in BENCHES.items():
        child = inner.add_parser(
            name, help=text, description=text, epilog=EXIT_STATUS, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        add_global_options(child)
        child.add_argument("--orders", type=int, default=default, metavar="N", help=f"how many (default {default:,})")
        child.add_argument("--json", action="store_true", help="print one JSON object")
        if name == "board":
            child.add_argument(
                "--loaded",
                type=int,
                metavar="N",
                help="orders already stored for the first-paint and RSS test (default N)",
            )
        if name == "window":
            child.add_argument(
                "--loaded",
                type=int,
                default=100_000,
                metavar="N",
                help="finished orders stored before the desk opens (default 100,000)",
            )
        if name == "api":
            child.add_argument(
                "--clients", type=int, default=200, metavar="C", help="clients, each with one WebSocket (default 200)"
            )
            child.add_argument(
                "--follow",
                choices=("each", "none"),
                default="each",
                help="each: every client follows every order it posts on a WebSocket of its own, as the seed's "
                "client does (default); none: POSTs only, every order's end read from the database every 50 ms "
                "(issue 26's load)",
            )
        if name == "cluster":
            child.add_argument(
                "--workers",
                type=int,
                nargs="+",
                default=[4],
                metavar="N",
                help="one N: measure 1, 2, 4 … up to N workers (default 4); several: exactly those counts",
            )
            child.add_argument(
                "--rounds",
                type=int,
                default=1,
                metavar="R",
                help="measure every worker count R times, in alternating order, and report the medians "
                "(each round's ratio beside them; default 1)",
            )
            child.add_argument(
                "--cpu-quota",
                type=float,
                metavar="Q",
                help="hold each worker to Q of one core (a cgroup CPU quota of its own; needs root), "
                "so the servers keep the rest and N workers ÷ 1 shows the design's scaling",
            )
        if name == "spec":
            child.add_argument(
                "--failure-rate",
                type=float,
                default=0.0,
                metavar="F",
                help="share of swaps that fail like a network (default 0: the task's spec has none; "
                "the product's default is 0.05)",
            )
        child.set_defaults(handler=_runner(module), sync_handler=True)
    return bench


def _runner(module: str) -> Callable[..., int]:
    def run(args: argparse.Namespace, settings: Any) -> int:
        if not 1 <= args.orders <= MAX_RUN_ORDERS:
            print(f"dexdesk: --orders: {ORDERS_RULE}", file=sys.stderr)
            return ExitCode.BAD_INPUT
        if getattr(args, "db_url", None):
            # The URL as every other command reads it (sqlite://, postgresql:// → their asyncio drivers).
            args.db_url = settings.db_url
        return int(importlib.import_module(f"app.bench.{module}").main(args))

    return run
