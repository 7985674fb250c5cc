"""One micro-batcher: what arrives while a batch is being written goes together in the next one.

The store's group commit, the API's admission of new orders and a worker's claims all have the
same shape: many tasks each want one thing done that costs a database round trip, and one round
trip can carry them all. Each caller submits its item and awaits its own future; one drain task
takes everything waiting (up to a limit), runs the batch function once, and hands every caller
the outcome at its place, or the batch's error if the whole batch failed. Callers that arrive
while a batch runs wait for the next one, so the batches grow with the load by themselves.

The batch function decides per item: it returns one outcome per item, in order, each a result
or the exception that caller should see. A caller that stopped waiting (its future cancelled)
still has its item run, as it would have alone: the write may already be under way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# One outcome per item: the result, or the exception that item's caller is answered with.
# (So a result type must not itself be an exception.)
RunBatch = Callable[[list[T]], Awaitable[Sequence[R | BaseException]]]


class Batcher(Generic[T, R]):
    """Collects items, runs them in batches through one function, answers each caller on its own.

    `limit` caps a batch (None: everything waiting); `gather_turns` is how many loop turns the
    drain task yields before taking a batch, so tasks made ready by the last batch can join this
    one (a turn costs microseconds, a round trip milliseconds). A batcher made with `opened=False`
    keeps what is submitted until `open()`; after `close()` it keeps it without running it.
    """

    def __init__(
        self,
        run: RunBatch[T, R],
        *,
        name: str,
        limit: int | None = None,
        gather_turns: int = 0,
        opened: bool = True,
    ) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        self._run = run
        self._name = name
        self._limit = limit
        self._gather_turns = gather_turns
        self._open = opened
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None
        self.pending = 0  # items submitted and not yet answered: real work a virtual clock must not jump past

    def submit(self, item: T) -> asyncio.Future[R]:
        """Queue one item for the next batch; the future gets its own outcome."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self.pending += 1
        future.add_done_callback(self._settled)
        self._waiting.append((item, future))
        self._start_draining()
        return future

    def open(self) -> None:
        """Start running batches, beginning with whatever was submitted before."""
        self._open = True
        self._start_draining()

    async def flush(self) -> None:
        """Wait until every item submitted so far (and those that join meanwhile) has been answered.

        Waits without cancelling the drain: a flush given up on leaves the batch running.
        """
        while self._task is not None and not self._task.done():
            await asyncio.wait({self._task})

    async def close(self) -> None:
        """Stop: cancel the batch running now, if any, and run nothing submitted later.

        Flush first for everything to be answered; a batch cancelled here leaves its callers unanswered.
        """
        self._open = False
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def _settled(self, _future: asyncio.Future[R]) -> None:
        self.pending -= 1

    def _start_draining(self) -> None:
        if self._open and self._waiting and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._drain(), name=self._name)

    async def _drain(self) -> None:
        while self._waiting and self._open:
            for _ in range(self._gather_turns):
                if self._limit is not None and len(self._waiting) >= self._limit:
                    break
                await asyncio.sleep(0)
            cut = len(self._waiting) if self._limit is None else self._limit
            batch, self._waiting = self._waiting[:cut], self._waiting[cut:]
            try:
                outcomes: Sequence[R | BaseException] = await self._run([item for item, _ in batch])
            except Exception as error:  # noqa: BLE001 - every caller of the batch hears why; none is left hanging
                outcomes = [error] * len(batch)
            if len(outcomes) != len(batch):
                wrong = RuntimeError(f"{self._name}: {len(outcomes)} outcomes for a batch of {len(batch)}")
                outcomes = [wrong] * len(batch)
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
