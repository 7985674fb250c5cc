"""A worker's attempt slots: `concurrency` attempts at once, a slot freed as soon as its attempt's outcome is queued.

The in-process line frees an attempt's slot once its last state (CONFIRMED, FAILED, or PENDING for
a retry) is queued for commit (engine/runtime/queue.py `outcome_queued`): the next order starts
while that commit, and the announcing behind it, are still under way. A worker held its slot (a
BullMQ job of `concurrency`) until the commit had landed, the end was on Redis and the job was
completed: about 4 ms of every order's 10 ms slot in `bench cluster`, in which nothing of the
order counted against the limit any more. So a worker now takes up to twice `concurrency` jobs
from BullMQ and lets `concurrency` of them attempt at once, by these slots: the same rule as the
in-process line, the limit on attempts unchanged.

A slot belongs to the task that holds it (one BullMQ job's task), so the transport's
`outcome_queued`, called from the attempt inside that task, frees exactly that slot.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

JOBS_PER_SLOT = 2


class AttemptSlots:
    def __init__(self, concurrency: int) -> None:
        self._free = asyncio.Semaphore(concurrency)
        self._holders: set[asyncio.Task[object]] = set()

    @property
    def attempting(self) -> int:
        """Attempts holding a slot now (what a worker reports as in flight)."""
        return len(self._holders)

    @property
    def full(self) -> bool:
        """Every slot is held: the next job waits for one."""
        return self._free.locked()

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Hold a slot for the current task's turn; it is freed at `outcome_queued` or when the turn ends."""
        task = asyncio.current_task()
        assert task is not None
        await self._free.acquire()
        self._holders.add(task)
        try:
            yield
        finally:
            self._release(task)

    def outcome_queued(self) -> None:
        """The current task's attempt has queued its last state: its slot may start the next order."""
        task = asyncio.current_task()
        if task is not None:
            self._release(task)

    def _release(self, task: asyncio.Task[object]) -> None:
        if task in self._holders:
            self._holders.discard(task)
            self._free.release()
