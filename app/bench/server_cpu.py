"""CPU seconds of processes read from /proc: this machine's PostgreSQL and Redis, or any one pid.

What a benchmark's orders cost is counted in CPU, not wall time: on a shared or busy machine the
wall clock measures the neighbours too. The servers' share matters as much as the program's own
when they run on the same cores (`bench api`, `bench cluster`); a server on another machine is not
seen here, and its figure stays 0.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

SERVERS = {"postgres": "postgres", "redis-server": "redis"}  # process name → the figure's name


def cpu_s(pid: int | str) -> float:
    """CPU seconds (user + system) a live process has used: on a shared machine wall time alone misleads."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_s() -> dict[str, dict[str, float]]:
    """CPU seconds of each PostgreSQL and Redis process this machine runs, by pid.

    What the servers spend per order is what bounds a cluster sharing their cores; a server on
    another machine is simply not seen (its figure stays 0).
    """
    found: dict[str, dict[str, float]] = {name: {} for name in SERVERS.values()}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if name in SERVERS:
            found[SERVERS[name]][entry.name] = cpu_s(entry.name)
    return found


def spent(before: dict[str, dict[str, float]], after: dict[str, dict[str, float]]) -> dict[str, float]:
    """CPU seconds each server spent between two readings (backends that came and went count from 0)."""
    return {
        server: sum(cpu - before[server].get(pid, 0.0) for pid, cpu in after[server].items() if not math.isnan(cpu))
        for server in after
    }
