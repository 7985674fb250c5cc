"""Helpers for the hardening tests (issue 16): a real `dexdesk` process and the one-line rule.

A command that hangs fails the test through its timeout; every fault tried is counted in TALLY
together with any traceback seen, so the run's closing figures come from the tests themselves.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from app.cli import main
from tests.faults.support import DEXDESK, TALLY, dexdesk_env


@dataclass
class HardeningTally:
    faults: int = 0
    tracebacks: int = 0
    hangs: int = 0


HARDENING = HardeningTally()


def dexdesk(home: Path, *args: str, timeout: float = 60.0, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the real command; a hang is counted and fails the test."""
    try:
        return subprocess.run(
            [DEXDESK, *args], env=dexdesk_env(home, **env), capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        HARDENING.hangs += 1
        raise AssertionError(f"dexdesk {' '.join(args)} hung for {timeout:g} s") from None


def one_line(stderr: str, *words: str, what: str) -> str:
    """Exactly one `dexdesk: …` line on stderr, holding every word; counts the fault tried."""
    HARDENING.faults += 1
    TALLY.fault(what)
    if "Traceback" in stderr:
        HARDENING.tracebacks += 1
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, lines
    assert lines[0].startswith("dexdesk: "), lines
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def sqlite_with_orders(folder: Path, count: int = 5) -> str:
    """A SQLite URL whose file already holds `count` finished orders (made in-process: it is setup)."""
    url = f"sqlite+aiosqlite:///{folder / 'orders.db'}"
    flags = ["--db", url, "--time-scale", "0", "--rate-limit", "0", "--seed", "1"]
    assert main([*flags, "run", "--orders", str(count)]) in (0, 1)
    return url
