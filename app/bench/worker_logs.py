"""What the workers of a `bench cluster` run said while they ran: warnings, errors, tracebacks.

A figure from workers that were retrying, deadlocking or failing batches is not the design's
figure. Two workers' group commits deadlocked on the summary's totals in most 3-worker quota runs
(docs/benchmarks.md, thirteenth session), each time a traceback in a worker's log that the bench
deleted with its temporary folder; the bench now counts them and shows the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A log record's first line, in app/cli.py's logging format: "2026-12-07 04:44:14,520 WARNING name: …".
_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (WARNING|ERROR|CRITICAL) ")
_TRACEBACK = "Traceback (most recent call last):"
_SHOWN = 200


@dataclass(frozen=True)
class WorkerLog:
    warnings: int = 0
    errors: int = 0  # ERROR and CRITICAL records
    tracebacks: int = 0
    first: str | None = None  # the first warning or error line, cut to 200 characters

    def __add__(self, other: WorkerLog) -> WorkerLog:
        return WorkerLog(
            self.warnings + other.warnings,
            self.errors + other.errors,
            self.tracebacks + other.tracebacks,
            self.first if self.first is not None else other.first,
        )


ROW = "workers' logs: warnings / errors / tracebacks"


def shown(said: dict[str, Any]) -> str:
    """A `worker_log` JSON value as the benches' tables show it."""
    counts = f"{said['warnings']} / {said['errors']} / {said['tracebacks']}"
    return counts + (f" (first: {said['first']})" if said["first"] else "")


def read(folder: Path) -> WorkerLog:
    """Count what every `worker-*.log` in `folder` said at WARNING and above, and its tracebacks."""
    found = WorkerLog()
    for path in sorted(folder.glob("worker-*.log")):
        warnings = errors = tracebacks = 0
        first: str | None = None
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith(_TRACEBACK):
                tracebacks += 1
                continue
            level = _RECORD.match(line)
            if level is None:
                continue
            if level.group(1) == "WARNING":
                warnings += 1
            else:
                errors += 1
            first = first or line[:_SHOWN]
        found = found + WorkerLog(warnings, errors, tracebacks, first)
    return found
