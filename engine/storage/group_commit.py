"""The group commit: one writer task stores whatever state changes have queued up, in one transaction.

An order announces a change only after the future `enqueue()` gave it resolves, so nothing is
ever announced that is not stored; one order's changes are stored in order, and never past one
that failed. The transaction itself (and its retries through locks and dropped connections) is
the store's `write`; the batching is engine/storage/batching.py's `Batcher`; this module decides which
changes of a batch are written and what each one is told.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from engine.storage.batching import Batcher
from engine.storage.changes import Change, OrderLost, StorageFailure, StorageUnavailable
from engine.storage.fast_write import BatchResult

log = logging.getLogger(__name__)

_BATCH_LIMIT = 2000
# Orders woken by the last commit need a few loop turns (dispatch, both quotes, build) to queue
# their next changes; waiting that long lets one commit carry them all.
_GATHER_TURNS = 8


@dataclass(slots=True)
class CommitTimes:
    """The group commits made so far and what they cost, for diagnostics and `dexdesk bench engine`.

    Whether the loop works while a commit is in flight, or waits for it, is what bounds the engine
    (docs/benchmarks.md): the loop's CPU during the commits against their wall time says which.
    """

    commits: int = 0
    changes: int = 0
    in_flight_s: float = 0.0  # wall time with a commit under way (from taking the batch to its outcome)
    loop_cpu_s: float = 0.0  # the loop thread's CPU meanwhile, on any of its tasks

    def add(self, changes: int, started: float, loop_cpu_at_start: float) -> None:
        self.commits += 1
        self.changes += changes
        self.in_flight_s += time.perf_counter() - started
        self.loop_cpu_s += time.thread_time() - loop_cpu_at_start

    def since(self, earlier: CommitTimes) -> CommitTimes:
        """What was added after `earlier` (a copy taken then): a benchmark's window alone."""
        return CommitTimes(
            self.commits - earlier.commits,
            self.changes - earlier.changes,
            self.in_flight_s - earlier.in_flight_s,
            self.loop_cpu_s - earlier.loop_cpu_s,
        )


class GroupCommit:
    def __init__(self, write: Callable[[list[Change]], Awaitable[BatchResult]]) -> None:
        self._write = write
        self._batcher: Batcher[Change, None] = Batcher(
            self._commit, name="dexdesk-storage-writer", limit=_BATCH_LIMIT, gather_turns=_GATHER_TURNS, opened=False
        )
        self.times = CommitTimes()

    def start(self) -> None:
        self._batcher.open()

    @property
    def pending(self) -> int:
        """Changes queued or being written: real work the virtual clock must not jump past."""
        return self._batcher.pending

    def enqueue(self, change: Change) -> asyncio.Future[None]:
        """Queue a state change for the next group commit; the future resolves once it is durable.

        Lets an order go on with work that has no outside effect while its change is being
        written; whatever announces the change waits for the future first.
        """
        change.done = self._batcher.submit(change)
        return change.done

    async def flush(self) -> None:
        """Wait until every queued state change has been written (or refused)."""
        await self._batcher.flush()

    async def close(self) -> None:
        await self._batcher.flush()
        await self._batcher.close()

    async def _commit(self, batch: list[Change]) -> list[BaseException | None]:
        """One transaction for the batch's writable changes; each change's outcome, in order."""
        started, loop_cpu = time.perf_counter(), time.thread_time()  # this runs on the loop's thread
        outcomes = self._drop_orphans(batch)
        writable = [change for change, outcome in zip(batch, outcomes, strict=True) if outcome is None]
        try:
            lost = (await self._write(writable)).lost if writable else set[str]()
        except StorageUnavailable as error:
            log.info("could not store %d state changes: %s", len(batch), error)
            return self._fail(outcomes, StorageFailure(str(error)))
        except Exception as error:
            log.exception("could not store %d state changes", len(batch))
            return self._fail(outcomes, StorageFailure(f"could not store the state change: {error}"))
        self.times.add(len(batch), started, loop_cpu)
        return [
            OrderLost(f"order {change.order_id} was changed by another process; dropped here")
            if outcome is None and change.order_id in lost
            else outcome
            for change, outcome in zip(batch, outcomes, strict=True)
        ]

    @staticmethod
    def _fail(outcomes: list[BaseException | None], error: StorageFailure) -> list[BaseException | None]:
        return [error if outcome is None else outcome for outcome in outcomes]

    @staticmethod
    def _drop_orphans(batch: list[Change]) -> list[BaseException | None]:
        """Refuse the changes whose earlier change of the same order could not be stored (None: writable).

        Runs in queue order, so a change behind a dropped one is dropped too, also within this
        batch. Once a change is decided its link is cut: chains never hold more than the changes
        still pending.
        """
        outcomes: list[BaseException | None] = []
        dropped: dict[int, StorageFailure] = {}  # id() of the changes refused so far in this batch
        for change in batch:
            earlier, change.after = change.after, None
            if earlier is None or (id(earlier) not in dropped and not earlier.failed):
                outcomes.append(None)
                continue
            cause = dropped.get(id(earlier)) or _failure_of(earlier)
            kind = OrderLost if isinstance(cause, OrderLost) else StorageFailure
            dropped[id(change)] = kind("an earlier state change of this order was not stored")
            outcomes.append(dropped[id(change)])
        return outcomes


def _failure_of(change: Change) -> BaseException | None:
    """What an already decided change failed with (None if it is undecided, stored or cancelled)."""
    if change.done is None or not change.done.done() or change.done.cancelled():
        return None
    return change.done.exception()
