"""Printing a bench's result (a table for people, one JSON object for scripts) and small statistics."""

from __future__ import annotations

import resource
import sys
from collections.abc import Sequence
from typing import Any

import psutil
from rich.console import Console
from rich.table import Table

from engine.model.jsonfmt import dumps


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1); 0 for no values, so a tiny run still prints."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[rank]


def rss_mb() -> float:
    """Resident memory of this process now."""
    rss: int = psutil.Process().memory_info().rss  # psutil ships no type stubs
    return rss / 2**20


def peak_rss_mb() -> float:
    """The most resident memory this process has had so far (Linux reports ru_maxrss in KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def emit(title: str, result: dict[str, Any], rows: Sequence[tuple[str, str]], *, as_json: bool) -> None:
    """One JSON object (numbers rounded for reading), or a two-column table of the same numbers."""
    if as_json:
        print(dumps({key: round(value, 4) if isinstance(value, float) else value for key, value in result.items()}))
        return
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for label, value in rows:
        table.add_row(label, value)
    Console(highlight=False).print(table)
