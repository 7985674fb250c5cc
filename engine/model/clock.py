"""One clock for every simulated wait, and a virtual-time event loop for exact timing tests.

Real waits go through the running loop's own clock (`loop.time()`), so a test or the `spec`
benchmark swaps in `VirtualTimeLoop` and every sleep, back-off and rate-limit window runs on
simulated time: exact, and instant.
"""

from __future__ import annotations

import asyncio
import math
import selectors
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

T = TypeVar("T")


class Clock:
    """Monotonic time, wall time and scaled waits, all read from the running event loop.

    `time_scale` multiplies the simulated waits (quotes, execution, back-off): 1 is real time,
    0 skips them. The rate limit is not scaled: it is per real (or, under test, virtual) minute.
    """

    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale < 0:
            raise ValueError("time scale must be 0 or more")
        self.time_scale = time_scale
        self._wall_origin: datetime | None = None
        self._loop_origin = 0.0

    def monotonic(self) -> float:
        """The running loop's clock; outside a loop (a Qt timer firing after shutdown), the real one."""
        try:
            return asyncio.get_running_loop().time()
        except RuntimeError:
            return time.monotonic()

    def utc_now(self) -> datetime:
        """Wall time that advances with the loop's clock, so virtual runs get virtual timestamps."""
        now = self.monotonic()
        if self._wall_origin is None:
            loop = asyncio.get_running_loop()
            if isinstance(loop, VirtualTimeLoop):
                self._wall_origin, self._loop_origin = loop.wall_origin, loop.start
            else:
                self._wall_origin, self._loop_origin = datetime.now(UTC), now
        return self._wall_origin + timedelta(seconds=now - self._loop_origin)

    def wall_seconds(self) -> float:
        """`utc_now()` as seconds since the epoch, without timedelta's rounding to microseconds.

        What processes share for the rate limit's window (engine.storage.rate_window).
        """
        origin = self.utc_now() - timedelta(seconds=self.monotonic() - self._loop_origin)
        return origin.timestamp() + (self.monotonic() - self._loop_origin)

    async def simulate(self, seconds: float) -> None:
        """Wait for a simulated duration, scaled; at scale 0 only yield to other tasks."""
        scaled = seconds * self.time_scale
        await asyncio.sleep(scaled if scaled > 0 else 0)

    async def sleep_until(self, deadline: float) -> None:
        delay = deadline - self.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


class _VirtualSelector(selectors.DefaultSelector):
    """Polls real I/O without blocking; when nothing is due, jumps the loop's clock instead."""

    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualTimeLoop | None = None

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        assert self.loop is not None
        if timeout is None or self.loop.real_work_pending():
            # Something outside the loop (a database thread or socket) is still working:
            # wait for it for real rather than let simulated time run past it.
            return super().select(timeout)
        self.loop.advance(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An asyncio loop whose clock only moves when every task is waiting on it.

    `real_work_pending` is asked before each jump; the engine's storage answers it, so simulated
    time never overtakes a database commit that is still in flight.
    """

    def __init__(self, start: float = 0.0, wall_origin: datetime | None = None) -> None:
        selector = _VirtualSelector()
        super().__init__(selector)
        selector.loop = self
        self._now = self.start = start
        self.wall_origin = wall_origin or datetime(2025, 12, 12, 10, 0, 0, tzinfo=UTC)
        self.real_work_pending: Callable[[], bool] = lambda: False

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        # Always move by at least one representable step: a delay smaller than the clock's last
        # bit would otherwise leave time standing still while a waiter re-sleeps forever.
        self._now = max(self._now + max(0.0, seconds), math.nextafter(self._now, math.inf))


def run_virtual(coro: Coroutine[Any, Any, T], loop: VirtualTimeLoop | None = None) -> T:
    """Run a coroutine to completion on virtual time (for tests and the `spec` benchmark)."""
    loop = loop or VirtualTimeLoop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
