"""The group commit: one writer task stores whatever state changes have queued up, in one transaction.

An order announces a change only after the future `enqueue()` gave it resolves, so nothing is
ever announced that is not stored; one order's changes are stored in order, and never past one
that failed. The transaction itself (and its retries through locks and dropped connections) is
the store's `write`; this module decides what goes into each batch and tells every change how
it went.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from engine.storage.changes import Change, OrderLost, StorageFailure, StorageUnavailable
from engine.storage.fast_write import BatchResult

log = logging.getLogger(__name__)

_BATCH_LIMIT = 2000
_GATHER_TURNS = 8


class GroupCommit:
    def __init__(self, write: Callable[[list[Change]], Awaitable[BatchResult]]) -> None:
        self._write = write
        self._queue: asyncio.Queue[Change] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.pending = 0  # changes queued or being written: real work the virtual clock must not jump past
        self.commits = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._write_forever(), name="dexdesk-storage-writer")

    @property
    def running(self) -> bool:
        return self._task is not None

    def enqueue(self, change: Change) -> asyncio.Future[None]:
        """Queue a state change for the next group commit; the future resolves once it is durable.

        Lets an order go on with work that has no outside effect while its change is being
        written; whatever announces the change waits for the future first.
        """
        change.done = asyncio.get_running_loop().create_future()
        self.pending += 1
        change.done.add_done_callback(self._settled)
        self._queue.put_nowait(change)
        return change.done

    def _settled(self, _done: asyncio.Future[None]) -> None:
        self.pending -= 1

    async def flush(self) -> None:
        """Wait until every queued state change has been written (or refused)."""
        if self._task is not None:
            await self._queue.join()

    async def close(self) -> None:
        if self._task is not None:
            await self._queue.join()
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _write_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            await self._gather_more()
            while len(batch) < _BATCH_LIMIT and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            lost: set[str] = set()
            try:
                writable = self._drop_orphans(batch)
                if writable:
                    lost = (await self._write(writable)).lost
            except StorageUnavailable as error:
                log.info("could not store %d state changes: %s", len(batch), error)
                self._fail(batch, StorageFailure(str(error)))
            except Exception as error:
                log.exception("could not store %d state changes", len(batch))
                self._fail(batch, StorageFailure(f"could not store the state change: {error}"))
            else:
                self.commits += 1
                for change in batch:
                    if change.done and not change.done.done():
                        if change.order.id in lost:
                            change.done.set_exception(
                                OrderLost(f"order {change.order.id} was changed by another process; dropped here")
                            )
                        else:
                            change.done.set_result(None)
            finally:
                for _ in batch:
                    self._queue.task_done()

    @staticmethod
    def _fail(batch: list[Change], error: StorageFailure) -> None:
        for change in batch:
            if change.done and not change.done.done():
                change.done.set_exception(error)

    async def _gather_more(self) -> None:
        """Let tasks that are ready to run queue their changes too, so one commit carries them all.

        Orders woken by the last commit need a few loop turns (dispatch, both quotes, build) to
        queue their next changes. A turn costs microseconds, a round trip milliseconds.
        """
        for _ in range(_GATHER_TURNS):
            if self._queue.qsize() >= _BATCH_LIMIT:
                return
            await asyncio.sleep(0)

    @staticmethod
    def _drop_orphans(batch: list[Change]) -> list[Change]:
        """Fail the changes whose earlier change of the same order could not be stored; return the rest.

        Runs in queue order, so a change behind a dropped one is dropped too. Once a change is
        decided its link is cut: chains never hold more than the changes still pending.
        """
        writable = []
        for change in batch:
            earlier, change.after = change.after, None
            if earlier is not None and earlier.failed:
                if change.done and not change.done.done():
                    assert earlier.done is not None
                    cause = None if earlier.done.cancelled() else earlier.done.exception()
                    kind = OrderLost if isinstance(cause, OrderLost) else StorageFailure
                    change.done.set_exception(kind("an earlier state change of this order was not stored"))
            else:
                writable.append(change)
        return writable
