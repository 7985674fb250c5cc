"""Helpers for fault tests: waiting on conditions, throwaway Redis servers, and the 'nothing lost' check.

Nothing here imitates a project part: the servers are real processes, the checks read the real database.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from engine.model.domain import OrderStatus
from engine.storage import OrderStore

REPO = Path(__file__).resolve().parents[2]
DEXDESK = str(Path(sys.executable).with_name("dexdesk"))


async def eventually(
    condition: Callable[[], object | Awaitable[object]], what: str, within: float = 15.0, every: float = 0.01
) -> None:
    """Wait until `condition()` is truthy; fail with `what` after `within` seconds."""

    async def poll() -> None:
        while True:
            result = condition()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return
            await asyncio.sleep(every)

    try:
        await asyncio.wait_for(poll(), within)
    except TimeoutError:
        raise AssertionError(f"timed out after {within:g} s waiting for {what}") from None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class ThrowawayRedis:
    """A redis-server of our own on a free port, to SIGKILL and restart; the shared one is never touched."""

    workdir: Path
    port: int = field(default_factory=free_port)
    extra: tuple[str, ...] = ()
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        options = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = await asyncio.create_subprocess_exec(
            "redis-server",
            *options,
            "--dir",
            str(self.workdir),
            *self.extra,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await eventually(lambda: answers(self.port), f"redis-server on port {self.port}")

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to clients, as a crash or an OOM kill would do."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()
        self.process = None


@dataclass
class Tally:
    """The figures the issue asks for, summed over the fault tests and printed at the end of the run."""

    orders: int = 0
    faults: int = 0
    lost: int = 0
    executed_twice: int = 0
    lines: list[str] = field(default_factory=list)

    def fault(self, what: str, count: int = 1) -> None:
        self.faults += count
        self.lines.append(what)

    def add(self, other: Tally) -> None:
        """Sums another process's figures in: under pytest-xdist each worker keeps its own, the controller prints."""
        self.orders += other.orders
        self.faults += other.faults
        self.lost += other.lost
        self.executed_twice += other.executed_twice
        self.lines.extend(other.lines)


TALLY = Tally()


async def assert_nothing_lost(store: OrderStore, order_ids: Iterable[str]) -> None:
    """Every order stored, terminal, ended once, executed at most once, and no txHash shared."""
    ids = list(order_ids)
    executions = await store.executions()
    stored = {order_id: await store.get(order_id) for order_id in ids}
    lost = [order_id for order_id, order in stored.items() if order is None or not order.is_terminal]
    twice = [order_id for order_id in ids if executions.get(order_id, 0) > 1]
    TALLY.orders += len(ids)
    TALLY.lost += len(lost)
    TALLY.executed_twice += len(twice)
    assert not lost, f"orders lost or unfinished: {lost}"
    assert not twice, f"orders executed more than once: {twice}"
    hashes = [order.tx_hash for order in stored.values() if order is not None and order.tx_hash]
    assert len(hashes) == len(set(hashes)), "a txHash was issued twice"
    for order in stored.values():
        assert order is not None
        ends = [entry for entry in order.logs if entry.status in (OrderStatus.CONFIRMED, OrderStatus.FAILED)]
        assert len(ends) == 1, f"order {order.id} ended {len(ends)} times"
        confirmed = order.status is OrderStatus.CONFIRMED
        assert executions.get(order.id, 0) == (1 if confirmed else 0), f"ledger disagrees with order {order.id}"


def dexdesk_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a real `dexdesk` subprocess: its own user dirs, no inherited DEXDESK_* values."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DEXDESK_")}
    env.update(XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"), PYTHONUNBUFFERED="1")
    # A short lease, so a killed process's orders are taken over (by `resume`) in 2 s, not 10.
    env.update(DEXDESK_LEASE_S="2")
    env.update(extra)
    return env
