"""At most `max` attempt starts in any `duration`-second window: BullMQ's limiter, made exact.

A sliding log of start times rather than a fixed bucket: a fixed per-minute bucket lets 200
starts through in two seconds across a minute boundary, which the contract forbids.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable

from engine.model.clock import Clock


class SlidingWindowLimiter:
    def __init__(self, clock: Clock, max_starts: int, duration_s: float = 60.0) -> None:
        self.clock = clock
        self.max_starts = max_starts
        self.duration_s = duration_s
        self._starts: deque[float] = deque()

    @property
    def enabled(self) -> bool:
        return self.max_starts > 0

    def _forget_old(self, now: float) -> None:
        # Same expression as the wake-up deadline in acquire(), so a waiter woken exactly at the
        # deadline always finds its slot free (now - duration could differ in the last bit).
        while self._starts and self._starts[0] + self.duration_s <= now:
            self._starts.popleft()

    def used(self) -> int:
        """Starts in the current window, for the desk's status bar."""
        self._forget_old(self.clock.monotonic())
        return len(self._starts)

    def start_delay(self, count: int) -> float:
        """Seconds from now until the `count`-th next start fits in the window (0 if it fits now).

        The sliding log repeats itself once the window is full: start number i happens one window
        after start number i - max, so the projection is exact and O(1) for any queue length.
        """
        if not self.enabled or count <= 0:
            return 0.0
        now = self.clock.monotonic()
        self._forget_old(now)
        used = len(self._starts)
        index = used + count - 1  # position of that start in the log, counting the ones in the window
        cycles, slot = divmod(index, self.max_starts)
        first = self._starts[slot] if slot < used else now
        return max(0.0, first + cycles * self.duration_s - now)

    def give_back(self) -> None:
        """Undo the latest start: the order it was for ended (cancelled) while it waited for it."""
        if self._starts:
            self._starts.pop()

    async def acquire(self) -> None:
        """Wait until a start fits in the window, then record it. Never refuses, only delays."""
        if not self.enabled:
            return
        while True:
            now = self.clock.monotonic()
            self._forget_old(now)
            if len(self._starts) < self.max_starts:
                self._starts.append(now)
                return
            await self.clock.sleep_until(self._starts[0] + self.duration_s)


Admit = Callable[[float, float, int], Awaitable[float | None]]


class SharedWindowLimiter(SlidingWindowLimiter):
    """The same rule, with the window held in the database (`engine.storage.rate_window.admit`).

    Restarts and other processes on the database count: a start is admitted only by the
    transaction that records it. Wall-clock time (the clock's `utc_now`, virtual in tests) is
    what processes share; the local log of starts only feeds the status bar's `used()`.
    """

    def __init__(self, clock: Clock, max_starts: int, duration_s: float, admit: Admit) -> None:
        super().__init__(clock, max_starts, duration_s)
        self._admit = admit

    async def acquire(self) -> None:
        if not self.enabled:
            return
        while True:
            wall = self.clock.wall_seconds()
            free_at = await self._admit(wall, self.duration_s, self.max_starts)
            now = self.clock.monotonic()
            if free_at is None:
                self._starts.append(now)
                self._forget_old(now)
                return
            await self.clock.sleep_until(now + max(free_at - wall, 0.0))
